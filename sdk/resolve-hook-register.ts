/** Registers resolve-hook.ts (`node --import` cannot take a hook module directly). */
import { register } from 'node:module';

register('./resolve-hook.js', import.meta.url);
