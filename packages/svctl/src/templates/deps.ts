// The framework and spec functions the templates use, in one place.
export {conflict, invalidInput} from '@bcl/core';
export {checkSpec} from '@bcl/deploy-core/spec';
