import type { Endpoint } from '../endpoint.js';

export const payoutsEndpoints: Endpoint<any, any, any>[] = [];
