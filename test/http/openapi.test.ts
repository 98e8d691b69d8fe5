/**
 * The OpenAPI 2.0 description for Power Automate: valid per @apidevtools/swagger-parser, current in
 * the repo, served by the function, and its parameters exactly those the handler accepts. That
 * Power Platform imports it (its own rules, beyond Swagger's) is connector-import.test.ts.
 */
import { readFile } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import type { OpenAPIV2 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { loadHttpFunctions } from '../../src/cli/function-modules.js';
import { buildOpenApi, OPENAPI_PATH, renderOpenApi } from '../../src/live/openapi.js';
import { buildWritesOpenApi, OPENAPI_WRITES_PATH, renderWritesOpenApi } from '../../src/live/openapi-writes.js';
import { FRIENDLY_PARAMS, KEY_PARAM, LIST_PARAM_NAMES } from '../../src/live/params.js';
import { DECLINE_REASONS } from '../../src/schema/referral-resource.js';

const HTTP_FUNCTIONS = await loadHttpFunctions();

const document = () => structuredClone(buildOpenApi()) as unknown as OpenAPIV2.Document;

function queryParams(op: OpenAPIV2.OperationObject | undefined): OpenAPIV2.GeneralParameterObject[] {
  return ((op?.parameters ?? []) as OpenAPIV2.GeneralParameterObject[]).filter((p) => p.in === 'query');
}

describe('OpenAPI description (docs/openapi.json, /api/openapi.json)', () => {
  it('is a valid OpenAPI 2.0 document', async () => {
    await expect(SwaggerParser.validate(document())).resolves.toBeDefined();
  });

  it('is current in the repo (npm run openapi:doc)', async () => {
    expect(await readFile(OPENAPI_PATH, 'utf8')).toBe(renderOpenApi());
  });

  it('lists exactly the parameters the handler accepts; the key is the apiKey security definition', () => {
    const doc = document();
    const list = doc.paths['/referrals']?.get;
    const names = queryParams(list).map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names, KEY_PARAM].sort()).toEqual([...LIST_PARAM_NAMES].sort());
    expect(doc.securityDefinitions?.functionKey).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-functions-key' }),
    );
    expect(doc.security).toEqual([{ functionKey: [] }]);
    // That the handler accepts every value declared here is declared-values.test.ts, live.
  });

  it('pages by nextLink, names and enumerates the friendly parameters', () => {
    const list = document().paths['/referrals']?.get as OpenAPIV2.OperationObject & Record<string, unknown>;
    expect(list['x-ms-pageable']).toEqual({ nextLinkName: 'nextLink' });
    const params = new Map(queryParams(list).map((p) => [p.name, p as typeof p & Record<string, unknown>]));
    for (const friendly of FRIENDLY_PARAMS) {
      const p = params.get(friendly.name);
      expect(p?.['x-ms-summary'], friendly.name).toBe(friendly.summary);
      if (friendly.values) expect(p?.enum).toEqual(friendly.values);
    }
    expect(params.get('continuation')?.['x-ms-visibility']).toBe('internal');
  });

  it('is served at /api/openapi.json with the host it was fetched from', async () => {
    const fn = HTTP_FUNCTIONS.find((f) => f.name === 'openapi');
    expect(fn?.authLevel).toBe('anonymous');
    const request = new HttpRequest({ method: 'GET', url: 'https://referrals.example.net/api/openapi.json' });
    const init = await fn?.handler(request, new InvocationContext({ invocationId: 'openapi-test' }));
    const served = JSON.parse(await new HttpResponse(init as never).text());
    expect(served).toEqual(buildOpenApi('referrals.example.net'));
    await expect(SwaggerParser.validate(served)).resolves.toBeDefined();
  });
});

describe('OpenAPI description of the write routes (docs/openapi-writes.json, /api/openapi-writes.json)', () => {
  const writes = () => structuredClone(buildWritesOpenApi()) as unknown as OpenAPIV2.Document;

  it('is a valid OpenAPI 2.0 document, current in the repo', async () => {
    await expect(SwaggerParser.validate(writes())).resolves.toBeDefined();
    expect(await readFile(OPENAPI_WRITES_PATH, 'utf8')).toBe(renderWritesOpenApi());
  });

  it('describes every write function once, by its route and method, under the write key only', () => {
    const doc = writes();
    const declared = HTTP_FUNCTIONS.filter((fn) => fn.keys === 'write').flatMap((fn) =>
      (fn.methods ?? []).map((method) => `${method.toLowerCase()} /${fn.route}`),
    );
    const described = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    expect(described.sort()).toEqual(declared.sort());
    expect(doc.security).toEqual([{ writeKey: [] }]);
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item) as (OpenAPIV2.OperationObject & Record<string, unknown>)[]) {
        expect(op.operationId).toMatch(/^[A-Z][A-Za-z]+$/);
        expect(op.summary).toBeTruthy();
        for (const p of (op.parameters ?? []) as (OpenAPIV2.GeneralParameterObject & Record<string, unknown>)[]) {
          if (p.in === 'header') expect(p['x-ms-visibility']).toBe('advanced');
          if (p.in !== 'body') expect(p['x-ms-summary']).toBeTruthy();
        }
      }
    }
    // The read document holds no write route, so a read connector cannot even offer one.
    expect(JSON.stringify(buildOpenApi())).not.toMatch(/AcceptReferral|DeclineReferral|UpdateReferral/);
  });

  it('offers the decline reasons the handler accepts', () => {
    const reason = (writes().definitions?.Decline?.properties?.reason ?? {}) as { enum?: string[] };
    expect(reason.enum).toEqual([...DECLINE_REASONS]);
  });
});
