// The Kubernetes manifests in deploy/k8s: valid objects (apiVersion, kind, name, the fields each kind
// requires), pointing at each other (selectors, ports, the HPA target and metric, the adapter rule),
// and agreeing with the service (probe paths, port, configuration variables, drain time). The Ingress
// for ingress-nginx says what deploy/nginx/nginx.conf says: the same hash key, retries, body limit and
// timeouts, each agreeing with the service's own limits.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, SPECS } from '../src/config.ts';
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
  Ingress: 'networking.k8s.io/v1',
  Job: 'batch/v1',
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
    assert.deepEqual([...k.resources].sort(), files.filter((f) => !['kustomization.yaml', 'prometheus-adapter-values.yaml', 'score-job.yaml'].includes(f)).sort());
  });

  it('score-job.yaml: an Indexed Job scores shard JOB_COMPLETION_INDEX of N per pod; the merge Job joins exactly those outputs', () => {
    const jobs = objects.filter((o) => o.kind === 'Job');
    const score = jobs.find((j) => j.metadata.labels.step === 'score');
    const merge = jobs.find((j) => j.metadata.labels.step === 'merge');
    assert.ok(score && merge, 'a score step and a merge step');
    assert.equal(score.spec.completionMode, 'Indexed');
    const scoreCmd: string = score.spec.template.spec.containers[0].args.join(' ');
    const mergeCmd: string = merge.spec.template.spec.containers[0].args.join(' ');
    const m = /score (\S+) -o (\S+)\$JOB_COMPLETION_INDEX(\S*) --shard \$JOB_COMPLETION_INDEX\/(\d+)/.exec(scoreCmd);
    assert.ok(m, scoreCmd);
    const [, input, outPrefix, outSuffix, n] = m;
    assert.equal(score.spec.completions, Number(n));
    assert.equal(score.spec.parallelism, Number(n));
    assert.ok(mergeCmd.includes(`merge ${outPrefix}*${outSuffix} `), mergeCmd);
    assert.ok(mergeCmd.includes(`--input ${input}`), mergeCmd);
    const claims = (job: Obj) => job.spec.template.spec.volumes.filter((v: Obj) => v.name === 'data').map((v: Obj) => v.persistentVolumeClaim.claimName);
    assert.deepEqual(claims(score), claims(merge));
    for (const job of [score, merge]) assert.equal(job.spec.template.metadata.labels.step, job.metadata.labels.step);
  });

  it('Ingress: ingress-nginx sends the Service\'s port, keyed and retried as deploy/nginx/nginx.conf', () => {
    const ingress = byKind('Ingress');
    const service = byKind('Service');
    const a = ingress.metadata.annotations;
    const nginx = readFileSync(new URL('../deploy/nginx/nginx.conf', import.meta.url), 'utf8');
    const directive = (name: string) => {
      const found = [...nginx.matchAll(new RegExp(`^\\s*${name} ([^;]+);`, 'gm'))].map((m) => m[1]);
      assert.equal(found.length, 1, `one ${name} in nginx.conf`);
      return found[0];
    };
    const seconds = (v: string) => Number(/^(\d+)s?$/.exec(v)![1]);
    const defaults = loadConfig({}, []);

    assert.equal(ingress.spec.ingressClassName, 'nginx');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    assert.equal(backend.name, service.metadata.name);
    assert.equal(backend.port.name, service.spec.ports[0].name);

    assert.equal(a['nginx.ingress.kubernetes.io/upstream-hash-by'], '$http_x_reward_group');
    assert.equal(directive('hash'), '$http_x_reward_group consistent');
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-next-upstream'], directive('proxy_next_upstream'));
    assert.match(directive('proxy_next_upstream'), /^error timeout http_502 http_503 non_idempotent$/);
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-next-upstream-tries'], directive('proxy_next_upstream_tries'));
    assert.equal(seconds(a['nginx.ingress.kubernetes.io/proxy-next-upstream-timeout']), seconds(directive('proxy_next_upstream_timeout')));
    for (const t of ['connect', 'send', 'read']) assert.equal(seconds(a[`nginx.ingress.kubernetes.io/proxy-${t}-timeout`]), seconds(directive(`proxy_${t}_timeout`)), t);
    assert.match(directive('keepalive'), /^\d+$/);

    // Limits: the body limit is the service's; a request may wait ADMISSION_TIMEOUT_MS in a queue
    // before it is scored, so reads wait longer than that.
    const bodyLimit = Number(env.BODY_LIMIT ?? defaults.BODY_LIMIT);
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-body-size'], directive('client_max_body_size'));
    assert.equal(Number(/^(\d+)m$/.exec(directive('client_max_body_size'))![1]) * 1024 * 1024, bodyLimit);
    assert.ok(seconds(directive('proxy_read_timeout')) * 1000 > Number(env.ADMISSION_TIMEOUT_MS ?? defaults.ADMISSION_TIMEOUT_MS));
    assert.ok(seconds(directive('proxy_next_upstream_timeout')) >= seconds(directive('proxy_read_timeout')));
  });
});
