export {UpdateCommand as default} from '@bcl/core';
