import type { Output } from './output.js';
import type { Invocation } from './program.js';
import type { Settings } from './settings.js';

export type Context = { settings: Settings; out: Output; invocation: Invocation };

/** A command's CLI side: read options, call the domain function, hand the result to Output. */
export type Handler = (context: Context) => Promise<void>;
