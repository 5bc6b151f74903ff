import type { Knex } from 'knex';
import type { Driver } from './driver.js';
import { embeddedDriver } from './embeddedDriver.js';
import { serverDriver } from './serverDriver.js';

/** The one place that asks which engine a handle is: knex's pg client, or cos-db's PGlite one. */
export function driverOf(knex: Knex): Driver {
  return knex.client.config.client === 'pg' ? serverDriver : embeddedDriver;
}
