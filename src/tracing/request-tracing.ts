// Distributed tracing with the OpenTelemetry SDK: a client's W3C traceparent is the parent of the
// gateway's request span, each pipeline stage is a child span, and the last stage (the forward to the
// shard) is the `upstream` span whose context goes to the shard as its traceparent. Spans are sampled
// by ratio (a sampled parent is always followed) and exported in batches over OTLP/HTTP.
//
// Off by default, and then nothing of this module is loaded: the pipeline is composed of the bare stages.
import { context, trace, SpanKind, SpanStatusCode, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { RequestContext, RequestObserver } from '../gateway/context.ts';
import type { Stage } from '../gateway/pipeline.ts';

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
  endpoint: string;
  /** Fraction of requests without a sampled parent that are traced, 0 … 1. */
  samplingRatio: number;
  serviceName: string;
  /** Extra headers for the exporter (an API key). */
  headers?: Record<string, string>;
  /** How long spans may wait before a batch goes out. */
  exportDelayMs?: number;
}

export interface RequestTracing {
  /** The pipeline's stages, each wrapped in a span; the last one is the upstream call. */
  traceStages(stages: readonly Stage[]): Stage[];
  /** Ends a request's spans when it is over. */
  observer: RequestObserver;
  /** Exports what is pending, then stops. */
  shutdown(): Promise<void>;
}

interface RequestSpans {
  request: Span;
  context: Context;
  upstream?: Span;
}

const headerGetter: TextMapGetter<RequestContext['req']['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const propagator = new W3CTraceContextPropagator();

export function createRequestTracing(options: TracingOptions): RequestTracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: options.endpoint, ...(options.headers === undefined ? {} : { headers: options.headers }) }), {
        scheduledDelayMillis: options.exportDelayMs ?? 5_000,
        // A collector that is down costs spans, never memory without bound.
        maxQueueSize: 4096,
      }),
    ],
  });
  const tracer: Tracer = provider.getTracer('kcp-edge');
  const spans = new WeakMap<RequestContext, RequestSpans>();

  const startRequest = (ctx: RequestContext): RequestSpans => {
    const parent = propagator.extract(context.active(), ctx.req.headers, headerGetter);
    const request = tracer.startSpan(
      `${ctx.req.method ?? 'GET'} request`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.req.method ?? '', 'url.path': ctx.path, 'kcp_edge.audit_id': ctx.auditId } },
      parent,
    );
    const entry: RequestSpans = { request, context: trace.setSpan(parent, request) };
    spans.set(ctx, entry);
    return entry;
  };

  const traceStage = (stage: Stage, index: number, last: boolean): Stage => {
    const name = stage.name === '' ? `stage ${index}` : stage.name;
    return (ctx) => {
      const entry = index === 0 ? startRequest(ctx) : spans.get(ctx);
      if (entry === undefined || !entry.request.isRecording()) return stage(ctx);
      if (last) {
        // The shard's spans are children of this one: it gets our context as its traceparent.
        const upstream = tracer.startSpan('upstream', { kind: SpanKind.CLIENT, attributes: { 'kcp_edge.shard': ctx.shard } }, entry.context);
        entry.upstream = upstream;
        setTraceparent(ctx, trace.setSpan(entry.context, upstream));
        return stage(ctx);
      }
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL }, entry.context);
      let result: void | Promise<void>;
      try {
        result = stage(ctx);
      } catch (err) {
        span.recordException(err as Error);
        span.end();
        throw err;
      }
      if (result === undefined) {
        span.end();
        return;
      }
      return result.then(
        () => span.end(),
        (err: unknown) => {
          span.recordException(err as Error);
          span.end();
          throw err;
        },
      );
    };
  };

  return {
    traceStages: (stages) => stages.map((stage, i) => traceStage(stage, i, i === stages.length - 1)),
    observer: {
      requestFinished(ctx) {
        const entry = spans.get(ctx);
        if (entry === undefined) return;
        const code = ctx.statusCode === 0 ? 499 : ctx.statusCode;
        const attributes = {
          'http.response.status_code': code,
          ...(ctx.shard === '' ? {} : { 'kcp_edge.shard': ctx.shard }),
          ...(ctx.target === undefined ? {} : { 'kcp_edge.workspace': ctx.target.route.path }),
          ...(ctx.attrs === undefined ? {} : { 'kcp_edge.verb': ctx.attrs.verb }),
          ...(ctx.identity === undefined ? {} : { 'enduser.id': ctx.identity.user }),
        };
        if (entry.upstream !== undefined) {
          entry.upstream.setAttributes({ 'http.response.status_code': code, 'kcp_edge.shard': ctx.shard });
          if (code >= 500) entry.upstream.setStatus({ code: SpanStatusCode.ERROR });
          entry.upstream.end();
        }
        entry.request.setAttributes(attributes);
        if (code >= 500) entry.request.setStatus({ code: SpanStatusCode.ERROR, ...(ctx.error === undefined ? {} : { message: ctx.error.code }) });
        entry.request.end();
      },
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Replaces the client's traceparent (and tracestate) in the headers the forwarder copies to the shard.
 * The forwarder reads the raw header list; the request object is this request's alone.
 */
function setTraceparent(ctx: RequestContext, spanContext: Context): void {
  const carrier: Record<string, string> = {};
  propagator.inject(spanContext, carrier, { set: (c, k, v) => void (c[k] = v) });
  const raw = ctx.req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'traceparent' || lower === 'tracestate') raw.splice(i, 2);
  }
  for (const [name, value] of Object.entries(carrier)) raw.push(name, value);
}
