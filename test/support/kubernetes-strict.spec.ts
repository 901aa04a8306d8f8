import { crdTable, hasKind, KUBERNETES_VERSIONS, kubernetesTable, strictProblems } from './kubernetes-strict';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000 },
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            ports: [{ name: 'http', containerPort: 8080 }],
            env: [{ name: 'A', value: '1' }],
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: 2, memory: '1Gi' } },
            readinessProbe: { httpGet: { path: '/health', port: 'http' } },
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
      },
    },
  },
});

type Deployment = ReturnType<typeof deployment>;
const container = (object: Deployment) => object.spec.template.spec.containers[0] as Record<string, unknown>;

describe('strictProblems', () => {
  it.each(KUBERNETES_VERSIONS)('accepts a valid Deployment (Kubernetes %s)', (version) => {
    expect(strictProblems(deployment(), kubernetesTable(version))).toEqual([]);
  });

  it('rejects an unknown field, with its path', () => {
    const object = deployment();
    container(object).resourcez = { limits: { cpu: 1 } };
    (object.metadata as Record<string, unknown>).label = {};
    expect(strictProblems(object, kubernetesTable('1.36'))).toEqual([
      'metadata.label: unknown field (V1ObjectMeta has no such field)',
      'spec.template.spec.containers[0].resourcez: unknown field (V1Container has no such field)',
    ]);
  });

  it('rejects a missing required field', () => {
    const object = deployment();
    delete container(object).name;
    delete (object.spec as Record<string, unknown>).selector;
    expect(strictProblems(object, kubernetesTable('1.27'))).toEqual([
      'spec.selector: missing (required by V1DeploymentSpec)',
      'spec.template.spec.containers[0].name: missing (required by V1Container)',
    ]);
  });

  it('rejects wrong types: string, integer, boolean, IntOrString, Quantity, map and array', () => {
    const object = deployment() as unknown as {
      spec: Record<string, unknown> & { template: { spec: Record<string, unknown> } };
    };
    object.spec.replicas = '2';
    object.spec.paused = 'no';
    object.spec.strategy = { rollingUpdate: { maxSurge: 1.5 } };
    const pod = object.spec.template.spec;
    pod.securityContext = { runAsUser: 1.5 };
    pod.containers = [
      {
        name: 'web',
        image: 7,
        args: 'serve',
        resources: { limits: { cpu: 'two' } },
        env: { A: '1' },
      },
    ];
    pod.nodeSelector = { disk: true };
    expect(strictProblems(object, kubernetesTable('1.36')).sort()).toEqual(
      [
        'spec.paused: a string ("no") where boolean is expected',
        'spec.replicas: a string ("2") where integer is expected',
        'spec.strategy.rollingUpdate.maxSurge: a number (1.5) where IntOrString is expected',
        'spec.template.spec.containers[0].image: a number (7) where string is expected',
        'spec.template.spec.containers[0].args: a string ("serve") where Array<string> is expected',
        'spec.template.spec.containers[0].resources.limits.cpu: a string ("two") where Quantity is expected',
        'spec.template.spec.containers[0].env: an object ({"A":"1"}) where Array<V1EnvVar> is expected',
        'spec.template.spec.securityContext.runAsUser: a number (1.5) where integer is expected',
        'spec.template.spec.nodeSelector.disk: a boolean (true) where string is expected',
      ].sort(),
    );
  });

  it('rejects a kind the Kubernetes version does not serve: resource.k8s.io/v1 before 1.34', () => {
    const template = {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'gpu' },
      spec: {
        spec: {
          devices: {
            requests: [
              {
                name: 'gpu',
                exactly: {
                  deviceClassName: 'gpu.nvidia.com',
                  count: 1,
                  selectors: [{ cel: { expression: 'true' } }],
                },
              },
            ],
          },
        },
      },
    };
    expect(hasKind(template, kubernetesTable('1.27'))).toBe(false);
    expect(strictProblems(template, kubernetesTable('1.27'))).toEqual([
      'resource.k8s.io/v1 ResourceClaimTemplate is not served by Kubernetes 1.27',
    ]);
    expect(strictProblems(template, kubernetesTable('1.34'))).toEqual([]);
    expect(strictProblems(template, kubernetesTable('1.36'))).toEqual([]);
    // resource.k8s.io/v1beta1's DeviceRequest had deviceClassName directly on the request; v1 has it under exactly.
    const v1beta1Shape = structuredClone(template);
    (v1beta1Shape.spec.spec.devices.requests[0] as Record<string, unknown>).deviceClassName =
      'gpu.nvidia.com';
    expect(strictProblems(v1beta1Shape, kubernetesTable('1.34'))).toEqual([
      'spec.spec.devices.requests[0].deviceClassName: unknown field (V1DeviceRequest has no such field)',
    ]);
  });

  it('checks the CRDs, leaving free-form maps open but typed', () => {
    const scaled = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'tagging' },
      spec: {
        scaleTargetRef: { name: 'tagging' },
        minReplicaCount: 1,
        triggers: [{ type: 'nats-jetstream', metadata: { stream: 'S', anyKeyAtAll: 'x' } }],
      },
    };
    expect(strictProblems(scaled, crdTable())).toEqual([]);
    const bad = structuredClone(scaled) as unknown as {
      spec: { triggers: Array<Record<string, unknown>>; [key: string]: unknown };
    };
    bad.spec.minReplicas = 1;
    bad.spec.triggers[0].metadata = { lagThreshold: 10 };
    expect(strictProblems(bad, crdTable())).toEqual([
      'spec.triggers[0].metadata.lagThreshold: a number (10) where string is expected',
      'spec.minReplicas: unknown field (ScaledObject.spec has no such field)',
    ]);
    expect(strictProblems({ apiVersion: 'v1', kind: 'Service' }, crdTable())).toEqual([
      'v1 Service is not served by the CRD schemas',
    ]);
  });
});
