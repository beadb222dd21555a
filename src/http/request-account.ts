import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated account of an API request; '' before authentication. */
    account: string;
  }
}

export function decorateRequestAccount(app: FastifyInstance): void {
  app.decorateRequest('account', '');
}

export function accountOf(request: FastifyRequest): string {
  if (request.account === '') throw new Error('route reached without authentication');
  return request.account;
}
