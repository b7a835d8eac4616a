/**
 * @bcl/pki-toolbox: the PKI Toolbox's pages for the PKI server to mount. The browser code
 * (src/web) is bundled into dist/site at build time; this entry only serves it.
 */
export {registerToolbox, defaultSiteDir, TOOLBOX_PAGES, ToolboxAssetsMissing, type ToolboxOptions} from './plugin.js';
export {CONTENT_SECURITY_POLICY, SECURITY_HEADERS} from './headers.js';
