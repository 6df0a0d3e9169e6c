/**
 * Publishes a unit of work's metrics as CloudWatch Embedded Metric Format lines, built by
 * Powertools Metrics (namespace, the `service` default dimension, timestamp, EMF limits). One line
 * per dimension set; a metric with more values than one EMF line may carry (100) continues on the
 * next line, so Powertools never flushes on its own behind the engine's back.
 *
 * Namespace: POWERTOOLS_METRICS_NAMESPACE, default "C2CConnector". Service: POWERTOOLS_SERVICE_NAME,
 * default `c2c-<vendor id>` of the bundle (the same service name the log lines carry).
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { MetricsBuffer, MetricsPublisher } from "./recorder.ts";

export const DEFAULT_METRICS_NAMESPACE = "C2CConnector";
/** EMF carries at most 100 values per metric and line. */
const MAX_VALUES_PER_LINE = 99;

export interface EmfPublisherOptions {
  namespace?: string;
  serviceName: string;
  /** Where a line goes; default stdout, where CloudWatch Logs extracts the metrics from. */
  write?: (line: string) => void;
}

export class EmfPublisher implements MetricsPublisher {
  private readonly metrics: Metrics;
  private readonly write: (line: string) => void;

  constructor(options: EmfPublisherOptions) {
    this.metrics = new Metrics({ namespace: options.namespace ?? DEFAULT_METRICS_NAMESPACE, serviceName: options.serviceName });
    this.write = options.write ?? ((line) => void process.stdout.write(`${line}\n`));
  }

  publish(buffer: MetricsBuffer): void {
    for (const { dimensions, metrics } of buffer.entries()) {
      for (let offset = 0; metrics.some((m) => m.values.length > offset); offset += MAX_VALUES_PER_LINE) {
        this.metrics.addDimensions({ ...dimensions });
        for (const m of metrics) {
          for (const v of m.values.slice(offset, offset + MAX_VALUES_PER_LINE)) this.metrics.addMetric(m.name, MetricUnit[m.unit], v);
        }
        const line = JSON.stringify(this.metrics.serializeMetrics());
        this.metrics.clearMetrics();
        this.metrics.clearDimensions();
        this.write(line);
      }
    }
  }
}

/** The publisher a deployed function uses, from its environment. */
export function emfPublisherFromEnv(defaultService: string, env: NodeJS.ProcessEnv = process.env): EmfPublisher {
  return new EmfPublisher({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || defaultService,
  });
}
