/** The Toolbox's entry point: the page is rendered here; key handling loads later, on demand. */
import {render} from 'preact';
import {createApiClient} from './api.js';
import {App} from './app.js';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App api={createApiClient()} />, root);
}
