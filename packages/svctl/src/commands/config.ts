export {ToolConfigCommand as default} from '@bcl/core';
