// The Kubernetes manifests in deploy/k8s: valid objects (apiVersion, kind, name, the fields each kind
// requires), pointing at each other (selectors, ports, the HPA target and metric, the adapter rule),
// and agreeing with the service (probe paths, port, configuration variables, drain time).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { SPECS } from '../src/config.ts';
import { openapiDocument } from './support/openapi.ts';

const DIR = new URL('../deploy/k8s/', import.meta.url);
type Obj = Record<string, any>;

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const objects: (Obj & { file: string })[] = files.filter((f) => f !== 'prometheus-adapter-values.yaml').flatMap((file) =>
  parseAllDocuments(readFileSync(new URL(file, DIR), 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], file);
    return { ...doc.toJS(), file };
  }));
const byKind = (kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
const openapi = await openapiDocument();

const API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  ConfigMap: 'v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
};

describe('deploy/k8s', () => {
  it('every document is a known kind with its apiVersion and a DNS-1123 name', () => {
    for (const o of objects) {
      assert.equal(o.apiVersion, API_VERSIONS[o.kind], `${o.file}: ${o.kind}`);
      if (o.kind !== 'Kustomization') assert.match(o.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, o.file);
    }
  });

  const deployment = byKind('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.value]));
  const port = container.ports[0];

  it('Deployment: selector matches the pod labels; one container with an image and one GPU', () => {
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(deployment.spec.template.metadata.labels[k], v);
    assert.equal(pod.containers.length, 1);
    assert.equal(typeof container.image, 'string');
    assert.equal(container.resources.limits['nvidia.com/gpu'], 1);
  });

  it('Deployment: environment variables are the service\'s own, listening on the container port', () => {
    for (const name of Object.keys(env)) assert.ok(name in SPECS, `${name} is a configuration variable`);
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(Number(env.PORT), port.containerPort);
    assert.equal(env.EXECUTION_PROVIDER, 'cuda');
  });

  it('Deployment: API_KEY comes from a secret that is required, not optional', () => {
    const apiKey = container.env.find((e: Obj) => e.name === 'API_KEY');
    assert.ok(apiKey?.valueFrom?.secretKeyRef, 'API_KEY from a secret');
    assert.equal(apiKey.valueFrom.secretKeyRef.name, 'code-reward-service');
    assert.notEqual(apiKey.valueFrom.secretKeyRef.optional, true, 'a pod without the key would serve every route to the cluster');
  });

  it('Deployment: readiness on /ready, liveness and start-up on /health, on the container port, both documented', () => {
    const probes = { readinessProbe: '/ready', livenessProbe: '/health', startupProbe: '/health' } as const;
    for (const [probe, path] of Object.entries(probes)) {
      const get = container[probe].httpGet;
      assert.equal(get.path, path, probe);
      assert.ok(get.port === port.name || get.port === port.containerPort, `${probe} port`);
      assert.ok(openapi.paths[path]?.get, `${path} in the OpenAPI document`);
    }
  });

  it('Deployment: the grace period covers the preStop sleep plus SHUTDOWN_TIMEOUT_MS', () => {
    const command: string[] = container.lifecycle.preStop.exec.command;
    assert.equal(command[0], 'sleep');
    const preStopS = Number(command[1]);
    const drainS = Number(env.SHUTDOWN_TIMEOUT_MS) / 1000;
    assert.ok(pod.terminationGracePeriodSeconds > preStopS + drainS, `${pod.terminationGracePeriodSeconds} s > ${preStopS} s + ${drainS} s`);
  });

  it('Service: selects the pods and targets the container port', () => {
    const service = byKind('Service');
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    const sp = service.spec.ports[0];
    assert.ok(sp.targetPort === port.name || sp.targetPort === port.containerPort);
    assert.equal(typeof sp.port, 'number');
  });

  it('ServiceMonitor: scrapes /metrics on the Service port', () => {
    const monitor = byKind('ServiceMonitor');
    const service = byKind('Service');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v);
    assert.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name);
    assert.equal(monitor.spec.endpoints[0].path, '/metrics');
  });

  const hpa = byKind('HorizontalPodAutoscaler');
  const metric = hpa.spec.metrics[0];

  it('HPA: scales the Deployment on reward_queue_items per pod, below the point of 503s', () => {
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas);
    assert.equal(metric.type, 'Pods');
    assert.equal(metric.pods.metric.name, 'reward_queue_items');
    assert.equal(metric.pods.target.type, 'AverageValue');
    assert.ok(Number(metric.pods.target.averageValue) < Number(env.MAX_QUEUE_ITEMS));
  });

  it('the Prometheus adapter rule serves that metric per pod, as a ConfigMap and as Helm values alike', () => {
    const configMap = byKind('ConfigMap');
    const rule = parse(configMap.data['config.yaml']).rules[0];
    const values = parse(readFileSync(new URL('prometheus-adapter-values.yaml', DIR), 'utf8'));
    assert.deepEqual(values.rules.custom[0], rule);
    assert.match(rule.seriesQuery, /^reward_queue_items\{/);
    assert.equal(rule.name.as, metric.pods.metric.name);
    assert.deepEqual(rule.resources.overrides, { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
    assert.match(rule.metricsQuery, /<<\.Series>>\{<<\.LabelMatchers>>\}/);
  });

  it('kustomization.yaml lists every manifest', () => {
    const k = byKind('Kustomization');
    assert.deepEqual([...k.resources].sort(), files.filter((f) => !['kustomization.yaml', 'prometheus-adapter-values.yaml'].includes(f)).sort());
  });
});
