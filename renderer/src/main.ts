/** Renderer entry: global styles, then the application shell mounted on `#app`. */
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (target === null) throw new Error('renderer: #app element missing from index.html');
mount(App, { target });
