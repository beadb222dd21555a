import type { Route } from '../route.js';
import { collectRoute } from './collect.js';
import { dashboardRoute } from './dashboard.js';
import { healthRoute } from './health.js';
import { metricsRoute } from './metrics.js';
import { nowRoute } from './now.js';
import { nowStreamRoute } from './now-stream.js';
import { nowTokenRoute } from './now-token.js';
import { openApiRoute } from './openapi.js';
import { trackerRoute } from './tracker.js';
import { uploadRoute } from './upload.js';

/** Every route of the app, in the order the OpenAPI document lists them: the one list of routes. */
export const ROUTES: readonly Route[] = [
  nowRoute,
  uploadRoute,
  nowTokenRoute,
  nowStreamRoute,
  collectRoute,
  trackerRoute,
  dashboardRoute,
  healthRoute,
  metricsRoute,
  openApiRoute,
];
