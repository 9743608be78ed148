import type { Endpoint } from '../endpoint.js';

export const trackingEndpoints: Endpoint<any, any, any>[] = [];
