import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { loadConfig } from '../src/config/load-config.js';
import { renderChart } from './support/helm-template.js';

/** A real (throw-away) PEM key: the config loader refuses anything else. */
const TEST_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

/*
 * What this validates, honestly: the chart is rendered by test/support/helm-template.ts (a renderer
 * for the Go-template subset the chart uses; Debian has no `helm` package), then every object is
 * checked against the Kubernetes OpenAPI schema of its kind (kubernetes-models: each object → its
 * model class → `.validate()`; like kubeconform without -strict, unknown fields are not refused),
 * and structurally across objects: API versions and kinds, names, selectors that select the pods,
 * ports and probes that name declared ports, volumes that exist, Secrets and ConfigMaps that are
 * rendered, autoscalers aimed at the worker, and settings droidworks accepts. KEDA's ScaledObject
 * has no model here, so it gets the structural checks only.
 */

const chartDir = join(import.meta.dirname, '..', 'infra', 'helm', 'droidworks');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Container {
  name: string;
  image: string;
  ports?: Array<{ name: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string }>;
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: { privileged?: boolean };
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{ name: string }>;
}

const API_VERSIONS: Record<string, string> = {
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  Ingress: 'networking.k8s.io/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  ScaledObject: 'keda.sh/v1alpha1',
};

/** The schema-checked model class of each kind the chart renders (ScaledObject: none). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Secret,
  Service,
  Deployment,
  Ingress,
  HorizontalPodAutoscaler,
};

/** Objects that do not validate against their Kubernetes schema, with the first error of each. */
function schemaProblems(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => {
    if (o.kind === 'ScaledObject') return [];
    const Model = MODELS[o.kind];
    if (!Model) return [`${o.kind}/${o.metadata.name}: no schema to validate against`];
    try {
      new Model(o as never).validate();
      return [];
    } catch (err) {
      return [`${o.kind}/${o.metadata.name}: ${err instanceof Error ? err.message : String(err)}`];
    }
  });
}

const base = { redis: { url: 'redis://redis.example:6379' }, secrets: { GITHUB_APP_ID: '12345' } };

function render(values: Record<string, unknown> = {}): K8sObject[] {
  const files = renderChart(chartDir, { values: { ...base, ...values }, releaseName: 'dw', namespace: 'ci' });
  return Object.entries(files).flatMap(([file, text]) =>
    parseAllDocuments(text)
      .map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS() as K8sObject | null;
      })
      .filter((o): o is K8sObject => o !== null),
  );
}

const byKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
const podSpec = (d: K8sObject): PodSpec => (d.spec as { template: { spec: PodSpec } }).template.spec;
const podLabels = (d: K8sObject): Record<string, string> =>
  (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Every structural rule, as a list of problems (empty when the rendering is sound). */
function problems(objects: K8sObject[], existingSecret?: string): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    if (API_VERSIONS[o.kind] !== o.apiVersion) out.push(`${id}: apiVersion ${o.apiVersion}`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata?.name ?? '') || o.metadata.name.length > 63)
      out.push(`${id}: name is not a DNS-1123 label`);
    if (o.metadata.namespace !== 'ci') out.push(`${id}: namespace ${o.metadata.namespace}`);
    if (names.has(id)) out.push(`${id}: rendered twice`);
    names.add(id);
  }
  const configMaps = new Set(byKind(objects, 'ConfigMap').map((o) => o.metadata.name));
  const secrets = new Set(byKind(objects, 'Secret').map((o) => o.metadata.name));
  if (existingSecret) secrets.add(existingSecret);
  const deployments = byKind(objects, 'Deployment');
  for (const d of deployments) {
    const id = `Deployment/${d.metadata.name}`;
    const selector = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    if (!selects(selector, podLabels(d))) out.push(`${id}: selector does not match its pod labels`);
    const spec = podSpec(d);
    const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
    for (const c of spec.containers) {
      if (!c.image || c.image.endsWith(':')) out.push(`${id}/${c.name}: no image tag`);
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of [c.livenessProbe, c.readinessProbe])
        if (probe && !ports.has(probe.httpGet.port))
          out.push(`${id}/${c.name}: probe port ${probe.httpGet.port} is not declared`);
      for (const m of c.volumeMounts ?? [])
        if (!volumes.has(m.name)) out.push(`${id}/${c.name}: mounts missing volume ${m.name}`);
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !configMaps.has(e.configMapRef.name))
          out.push(`${id}/${c.name}: ConfigMap ${e.configMapRef.name} is not rendered`);
        if (e.secretRef && !secrets.has(e.secretRef.name))
          out.push(`${id}/${c.name}: Secret ${e.secretRef.name} is not rendered`);
      }
    }
  }
  const services = byKind(objects, 'Service');
  for (const s of services) {
    const spec = s.spec as {
      selector: Record<string, string>;
      ports: Array<{ name: string; targetPort: string }>;
    };
    const target = deployments.find((d) => selects(spec.selector, podLabels(d)));
    if (!target) {
      out.push(`Service/${s.metadata.name}: selects no Deployment's pods`);
      continue;
    }
    const declared = new Set(podSpec(target).containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of spec.ports)
      if (!declared.has(p.targetPort))
        out.push(`Service/${s.metadata.name}: targetPort ${p.targetPort} not declared`);
  }
  for (const i of byKind(objects, 'Ingress')) {
    const rules = (
      i.spec as {
        rules: Array<{
          http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> };
        }>;
      }
    ).rules;
    for (const path of rules.flatMap((r) => r.http.paths)) {
      const svc = services.find((s) => s.metadata.name === path.backend.service.name);
      const ports = (svc?.spec as { ports?: Array<{ name: string }> } | undefined)?.ports ?? [];
      if (!ports.some((p) => p.name === path.backend.service.port.name))
        out.push(
          `Ingress/${i.metadata.name}: backend ${path.backend.service.name}:${path.backend.service.port.name} does not exist`,
        );
    }
  }
  for (const a of [...byKind(objects, 'HorizontalPodAutoscaler'), ...byKind(objects, 'ScaledObject')]) {
    const target = (a.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name;
    if (!deployments.some((d) => d.metadata.name === target && d.metadata.name.endsWith('-worker')))
      out.push(`${a.kind}/${a.metadata.name}: does not scale the worker Deployment`);
  }
  return out;
}

const envOf = (objects: K8sObject[]): Record<string, string> => ({
  ...Object.assign({}, ...byKind(objects, 'ConfigMap').map((c) => c.data ?? {})),
  ...Object.assign({}, ...byKind(objects, 'Secret').map((s) => s.stringData ?? {})),
});

describe('Helm chart infra/helm/droidworks', () => {
  it.each([
    ['defaults (DinD sidecar, ingress, no autoscaling)', {}],
    ['host Docker socket', { worker: { docker: { mode: 'hostSocket' } } }],
    ['KEDA on queued runs', { worker: { autoscaling: { mode: 'keda' } } }],
    ['HPA on an external metric', { worker: { autoscaling: { mode: 'hpa' } } }],
    ['TLS ingress with a class', { gateway: { ingress: { className: 'nginx', tls: { enabled: true } } } }],
    ['no ingress', { gateway: { ingress: { enabled: false } } }],
  ] as const)('renders sound objects: %s', (_what, values) => {
    const objects = render(values);
    expect(schemaProblems(objects)).toEqual([]);
    expect(problems(objects)).toEqual([]);
    expect(
      byKind(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['dw-droidworks-gateway', 'dw-droidworks-worker']);
  });

  it('the schema check refuses what Kubernetes would refuse', () => {
    const objects = render({ worker: { autoscaling: { mode: 'hpa' } } });
    const broken = objects.map((o) =>
      o.kind === 'Deployment'
        ? { ...o, spec: { ...o.spec, replicas: 'two' } }
        : o.kind === 'HorizontalPodAutoscaler'
          ? { ...o, spec: { ...o.spec, maxReplicas: undefined } }
          : o,
    );
    expect(schemaProblems(broken).sort()).toEqual([
      'Deployment/dw-droidworks-gateway: data/spec/replicas must be integer',
      'Deployment/dw-droidworks-worker: data/spec/replicas must be integer',
      'HorizontalPodAutoscaler/dw-droidworks-worker: data/spec must have required property maxReplicas',
    ]);
  });

  it('probes the gateway on /healthz and /readyz, and the worker on its metrics port', () => {
    const objects = render();
    const [gateway, worker] = ['gateway', 'worker'].map(
      (c) => podSpec(byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith(c))!).containers[0]!,
    );
    expect([gateway?.livenessProbe?.httpGet.path, gateway?.readinessProbe?.httpGet.path]).toEqual([
      '/healthz',
      '/readyz',
    ]);
    expect(worker?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(worker?.ports).toEqual([{ name: 'metrics', containerPort: 9464 }]);
    expect(envOf(objects).DROIDWORKS_WORKER_METRICS_PORT).toBe('9464');
  });

  it('runs sandboxes in a privileged DinD sidecar sharing the data directory, or on the host socket', () => {
    const dind = podSpec(byKind(render(), 'Deployment').find((d) => d.metadata.name.endsWith('worker'))!);
    expect(dind.containers.map((c) => c.name)).toEqual(['worker', 'dind']);
    expect(dind.containers[1]?.securityContext?.privileged).toBe(true);
    const dataMounts = dind.containers.map((c) => c.volumeMounts?.find((m) => m.name === 'data')?.mountPath);
    expect(dataMounts).toEqual(['/var/lib/droidworks', '/var/lib/droidworks']);
    expect(dind.containers[0]?.env).toContainEqual({ name: 'DOCKER_HOST', value: 'tcp://127.0.0.1:2375' });

    const host = podSpec(
      byKind(render({ worker: { docker: { mode: 'hostSocket' } } }), 'Deployment').find((d) =>
        d.metadata.name.endsWith('worker'),
      )!,
    );
    expect(host.containers.map((c) => c.name)).toEqual(['worker']);
    expect(host.containers.some((c) => c.securityContext?.privileged)).toBe(false);
    expect(host.volumes?.map((v) => v.name).sort()).toEqual(['data', 'docker-socket']);
    expect((host as PodSpec & { securityContext?: unknown }).securityContext).toEqual({
      supplementalGroups: [999],
    });
  });

  it('scales workers on the queued-runs metric the gateway exports', () => {
    const keda = byKind(render({ worker: { autoscaling: { mode: 'keda' } } }), 'ScaledObject')[0];
    const trigger = (keda?.spec as { triggers: Array<{ metadata: { query: string } }> }).triggers[0];
    expect(trigger?.metadata.query).toMatch(/droidworks_queue_jobs\{queue="runs"/);
    const objects = render({ worker: { autoscaling: { mode: 'hpa' } } });
    const hpa = byKind(objects, 'HorizontalPodAutoscaler')[0];
    expect(JSON.stringify(hpa?.spec)).toContain('droidworks_queue_jobs');
    // The autoscaler owns the replica count.
    const worker = byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith('worker'));
    expect(worker?.spec?.replicas).toBeUndefined();
  });

  it('renders settings that droidworks itself accepts for a gateway and a worker', () => {
    const env = envOf(
      render({
        secrets: {
          GITHUB_APP_ID: '12345',
          GITHUB_PRIVATE_KEY: TEST_KEY,
          GITHUB_WEBHOOK_SECRET: 'a-long-secret',
        },
      }),
    );
    const config = loadConfig(env, { require: ['gateway', 'worker'] });
    expect(config.redisUrl).toBe('redis://redis.example:6379');
    expect(config.workerMetricsPort).toBe(9464);
    expect(config.github.auth?.kind).toBe('app');
  });

  it('takes credentials from an existing Secret instead of rendering one', () => {
    const objects = render({ existingSecret: 'droidworks-credentials' });
    expect(byKind(objects, 'Secret')).toEqual([]);
    expect(problems(objects, 'droidworks-credentials')).toEqual([]);
    expect(problems(objects)).toContainEqual(
      expect.stringMatching(/Secret droidworks-credentials is not rendered/),
    );
  });

  it('refuses to render without a Redis URL', () => {
    expect(() => render({ redis: { url: '' } })).toThrow(/redis\.url is required/);
  });
});
