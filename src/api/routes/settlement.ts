import type { Endpoint } from '../endpoint.js';

export const settlementEndpoints: Endpoint<any, any, any>[] = [];
