import type { Endpoint } from '../endpoint.js';

export const conversionsEndpoints: Endpoint<any, any, any>[] = [];
