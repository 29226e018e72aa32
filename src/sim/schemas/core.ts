// core/v1 kinds the stand-in serves, with the fields users write and the patch merge keys of their Go types.
import { atomicList, bool, int, int64, intOrString, keyedList, kind, loose, object, ref, str, stringMap, strings, time, type Schema } from './builders.ts';

const core = (name: string) => `io.k8s.api.core.v1.${name}`;
const v1 = (kindName: string, description: string, properties: Record<string, Schema>) => kind('', 'v1', kindName, description, properties);
const byteMap = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'string', format: 'byte' }, description });

const container: Record<string, Schema> = {
  name: str('Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.'),
  image: str('Container image name. More info: https://kubernetes.io/docs/concepts/containers/images'),
  command: strings("Entrypoint array. Not executed within a shell. The container image's ENTRYPOINT is used if this is not provided."),
  args: strings("Arguments to the entrypoint. The container image's CMD is used if this is not provided."),
  workingDir: str("Container's working directory. If not specified, the container runtime's default will be used."),
  ports: keyedList(core('ContainerPort'), 'containerPort', 'List of ports to expose from the container.', ['containerPort', 'protocol']),
  env: keyedList(core('EnvVar'), 'name', 'List of environment variables to set in the container. Cannot be updated.'),
  envFrom: atomicList(core('EnvFromSource'), 'List of sources to populate environment variables in the container.'),
  resources: ref(core('ResourceRequirements'), 'Compute Resources required by this container. Cannot be updated.', { default: {} }),
  volumeMounts: keyedList(core('VolumeMount'), 'mountPath', "Pod volumes to mount into the container's filesystem. Cannot be updated."),
  imagePullPolicy: str('Image pull policy. One of Always, Never, IfNotPresent.', { enum: ['Always', 'IfNotPresent', 'Never'] }),
  livenessProbe: loose('Periodic probe of container liveness. Container will be restarted if the probe fails.'),
  readinessProbe: loose('Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails.'),
  startupProbe: loose('StartupProbe indicates that the Pod has successfully initialized.'),
  lifecycle: loose('Actions that the management system should take in response to container lifecycle events.'),
  securityContext: loose('SecurityContext defines the security options the container should be run with.'),
  stdin: bool('Whether this container should allocate a buffer for stdin in the container runtime.'),
  stdinOnce: bool('Whether the container runtime should close the stdin channel after it has been opened by a single attach.'),
  tty: bool("Whether this container should allocate a TTY for itself, also requires 'stdin' to be true."),
  terminationMessagePath: str("Optional: Path at which the file to which the container's termination message will be written is mounted into the container's filesystem."),
  terminationMessagePolicy: str('Indicate how the termination message should be populated.'),
  resizePolicy: {
    type: 'array',
    items: loose('ContainerResizePolicy represents resource resize policy for the container.'),
    description: 'Resources resize policy for the container.',
    'x-kubernetes-list-type': 'atomic',
  },
  restartPolicy: str(
    'RestartPolicy defines the restart behavior of individual containers in a pod. This field may only be set for init containers, and the only allowed value is "Always".',
  ),
  volumeDevices: keyedList(core('VolumeDevice'), 'devicePath', 'volumeDevices is the list of block devices to be used by the container.'),
  targetContainerName: str('If set, the name of the container from PodSpec that this ephemeral container targets (ephemeral containers only).'),
};

const volumeSources = ['configMap', 'secret', 'emptyDir', 'persistentVolumeClaim', 'hostPath', 'projected', 'downwardAPI', 'csi', 'ephemeral', 'nfs'];

export const coreSchemas: Record<string, Schema> = {
  [core('Namespace')]: v1('Namespace', 'Namespace provides a scope for Names. Use of multiple namespaces is optional.', {
    spec: ref(core('NamespaceSpec'), 'Spec defines the behavior of the Namespace.', { default: {} }),
    status: ref(core('NamespaceStatus'), 'Status describes the current status of a Namespace.', { default: {} }),
  }),
  [core('NamespaceSpec')]: object('NamespaceSpec describes the attributes on a Namespace.', {
    finalizers: strings('Finalizers is an opaque list of values that must be empty to permanently remove object from storage.'),
  }),
  [core('NamespaceStatus')]: object('NamespaceStatus is information about the current status of a Namespace.', {
    phase: str('Phase is the current lifecycle phase of the namespace.', { enum: ['Active', 'Terminating'] }),
    conditions: keyedList(core('NamespaceCondition'), 'type', "Represents the latest available observations of a namespace's current state."),
  }),
  [core('NamespaceCondition')]: object(
    'NamespaceCondition contains details about state of namespace.',
    {
      type: str('Type of namespace controller condition.'),
      status: str('Status of the condition, one of True, False, Unknown.'),
      lastTransitionTime: time('Last time the condition transitioned from one status to another.'),
      reason: str("Unique, one-word, CamelCase reason for the condition's last transition."),
      message: str('Human-readable message indicating details about last transition.'),
    },
    ['type', 'status'],
  ),

  [core('ConfigMap')]: v1('ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
    data: stringMap(
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    binaryData: byteMap(
      "BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'. BinaryData can contain byte sequences that are not in the UTF-8 range. The keys stored in BinaryData must not overlap with the ones in the Data field, this is enforced during validation process.",
    ),
    immutable: bool(
      'Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil.',
    ),
  }),
  [core('Secret')]: v1('Secret', 'Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.', {
    data: byteMap(
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string.",
    ),
    stringData: stringMap(
      'stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values.',
    ),
    type: str('Used to facilitate programmatic handling of secret data.'),
    immutable: bool('Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).'),
  }),
  [core('ServiceAccount')]: v1(
    'ServiceAccount',
    'ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets',
    {
      secrets: keyedList(core('ObjectReference'), 'name', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'),
      imagePullSecrets: atomicList(
        core('LocalObjectReference'),
        'ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.',
      ),
      automountServiceAccountToken: bool('AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.'),
    },
  ),
  [core('ObjectReference')]: {
    ...object('ObjectReference contains enough information to let you inspect or modify the referred object.', {
      kind: str('Kind of the referent.'),
      namespace: str('Namespace of the referent.'),
      name: str('Name of the referent.'),
      uid: str('UID of the referent.'),
      apiVersion: str('API version of the referent.'),
      resourceVersion: str('Specific resourceVersion to which this reference is made, if any.'),
      fieldPath: str('If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [core('LocalObjectReference')]: {
    ...object('LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.', {
      name: str('Name of the referent.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [core('Event')]: v1('Event', 'Event is a report of an event somewhere in the cluster.', {
    involvedObject: ref(core('ObjectReference'), 'The object that this event is about.', { default: {} }),
    reason: str("This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    message: str('A human-readable description of the status of this operation.'),
    source: loose('The component reporting this event. Should be a short machine understandable string.'),
    firstTimestamp: time('The time at which the event was first recorded.'),
    lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
    eventTime: { type: 'string', format: 'date-time', description: 'Time when this Event was first observed.' },
    count: int('The number of times this event has occurred.'),
    type: str('Type of this event (Normal, Warning), new types could be added in the future'),
    action: str('What action was taken/failed regarding to the Regarding object.'),
    reportingComponent: str('Name of the controller that emitted this Event.'),
    reportingInstance: str('ID of the controller instance.'),
    related: ref(core('ObjectReference'), 'Optional secondary object for more complex actions.'),
    series: loose("Data about the Event series this event represents or nil if it's a singleton Event."),
  }),

  [core('Service')]: v1(
    'Service',
    'Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.',
    {
      spec: ref(core('ServiceSpec'), 'Spec defines the behavior of a service.', { default: {} }),
      status: ref(core('ServiceStatus'), 'Most recently observed status of the service. Populated by the system. Read-only.', { default: {} }),
    },
  ),
  [core('ServiceSpec')]: object('ServiceSpec describes the attributes that a user creates on a service.', {
    ports: keyedList(core('ServicePort'), 'port', 'The list of ports that are exposed by this service.', ['port', 'protocol']),
    selector: { ...stringMap('Route service traffic to pods with label keys and values matching this selector.'), 'x-kubernetes-map-type': 'atomic' },
    clusterIP: str('clusterIP is the IP address of the service and is usually assigned randomly.'),
    clusterIPs: strings('ClusterIPs is a list of IP addresses assigned to this service, and are usually assigned randomly.'),
    type: str('type determines how the Service is exposed. Defaults to ClusterIP.', { enum: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] }),
    externalIPs: strings('externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    sessionAffinity: str('Supports "ClientIP" and "None". Used to maintain session affinity.'),
    loadBalancerIP: str('Only applies to Service Type: LoadBalancer.'),
    loadBalancerSourceRanges: strings(
      'If specified and supported by the platform, this will restrict traffic through the cloud-provider load-balancer will be restricted to the specified client IPs.',
    ),
    externalName: str('externalName is the external reference that discovery mechanisms will return as an alias for this service (e.g. a DNS CNAME record).'),
    externalTrafficPolicy: str('externalTrafficPolicy describes how nodes distribute service traffic they receive on one of the Service\'s "externally-facing" addresses.'),
    internalTrafficPolicy: str('InternalTrafficPolicy describes how nodes distribute service traffic they receive on the ClusterIP.'),
    healthCheckNodePort: int('healthCheckNodePort specifies the healthcheck nodePort for the service.'),
    publishNotReadyAddresses: bool(
      'publishNotReadyAddresses indicates that any agent which deals with endpoints for this Service should disregard any indications of ready/not-ready.',
    ),
    ipFamilies: strings('IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this service.'),
    ipFamilyPolicy: str('IPFamilyPolicy represents the dual-stack-ness requested or required by this Service.'),
    allocateLoadBalancerNodePorts: bool('allocateLoadBalancerNodePorts defines if NodePorts will be automatically allocated for services with type LoadBalancer.'),
    loadBalancerClass: str('loadBalancerClass is the class of the load balancer implementation this Service belongs to.'),
    sessionAffinityConfig: loose('sessionAffinityConfig contains the configurations of session affinity.'),
    trafficDistribution: str('TrafficDistribution offers a way to express preferences for how traffic is distributed to Service endpoints.'),
  }),
  [core('ServicePort')]: object(
    "ServicePort contains information on service's port.",
    {
      name: str('The name of this port within the service. This must be a DNS_LABEL. All ports within a ServiceSpec must have unique names.'),
      protocol: str('The IP protocol for this port. Supports "TCP", "UDP", and "SCTP". Default is TCP.', { enum: ['SCTP', 'TCP', 'UDP'], default: 'TCP' }),
      appProtocol: str('The application protocol for this port.'),
      port: int('The port that will be exposed by this service.'),
      targetPort: intOrString('Number or name of the port to access on the pods targeted by the service.'),
      nodePort: int('The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'),
    },
    ['port'],
  ),
  [core('ServiceStatus')]: object('ServiceStatus represents the current status of a service.', {
    loadBalancer: loose('LoadBalancer contains the current status of the load-balancer, if one is present.'),
    conditions: keyedList('io.k8s.apimachinery.pkg.apis.meta.v1.Condition', 'type', 'Current service state'),
  }),

  [core('Pod')]: v1('Pod', 'Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.', {
    spec: ref(core('PodSpec'), 'Specification of the desired behavior of the pod.', { default: {} }),
    status: ref(core('PodStatus'), 'Most recently observed status of the pod. This data may not be up to date. Populated by the system. Read-only.', { default: {} }),
  }),
  [core('PodSpec')]: object(
    'PodSpec is a description of a pod.',
    {
      containers: keyedList(
        core('Container'),
        'name',
        'List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.',
        ['name'],
      ),
      initContainers: keyedList(core('Container'), 'name', 'List of initialization containers belonging to the pod.', ['name']),
      ephemeralContainers: keyedList(core('Container'), 'name', 'List of ephemeral containers run in this pod.', ['name']),
      volumes: {
        ...keyedList(core('Volume'), 'name', 'List of volumes that can be mounted by containers belonging to the pod.'),
        'x-kubernetes-patch-strategy': 'merge,retainKeys',
      },
      restartPolicy: str('Restart policy for all containers within the pod. One of Always, OnFailure, Never.', { enum: ['Always', 'Never', 'OnFailure'] }),
      terminationGracePeriodSeconds: int64('Optional duration in seconds the pod needs to terminate gracefully.'),
      activeDeadlineSeconds: int64(
        'Optional duration in seconds the pod may be active on the node relative to StartTime before the system will actively try to mark it failed and kill associated containers.',
      ),
      dnsPolicy: str('Set DNS policy for the pod. Defaults to "ClusterFirst".'),
      nodeSelector: { ...stringMap('NodeSelector is a selector which must be true for the pod to fit on a node.'), 'x-kubernetes-map-type': 'atomic' },
      serviceAccountName: str('ServiceAccountName is the name of the ServiceAccount to use to run this pod.'),
      automountServiceAccountToken: bool('AutomountServiceAccountToken indicates whether a service account token should be automatically mounted.'),
      nodeName: str('NodeName indicates in which node this pod is scheduled.'),
      hostNetwork: bool("Host networking requested for this pod. Use the host's network namespace."),
      securityContext: loose('SecurityContext holds pod-level security attributes and common container settings.'),
      imagePullSecrets: keyedList(
        core('LocalObjectReference'),
        'name',
        'ImagePullSecrets is an optional list of references to secrets in the same namespace to use for pulling any of the images used by this PodSpec.',
      ),
      hostname: str("Specifies the hostname of the Pod. If not specified, the pod's hostname will be set to a system-defined value."),
      subdomain: str('If specified, the fully qualified Pod hostname will be "<hostname>.<subdomain>.<pod namespace>.svc.<cluster domain>".'),
      affinity: loose("If specified, the pod's scheduling constraints"),
      schedulerName: str('If specified, the pod will be dispatched by specified scheduler.'),
      tolerations: {
        type: 'array',
        items: loose('The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect>.'),
        description: "If specified, the pod's tolerations.",
        'x-kubernetes-list-type': 'atomic',
      },
      priorityClassName: str("If specified, indicates the pod's priority."),
      enableServiceLinks: bool("EnableServiceLinks indicates whether information about services should be injected into pod's environment variables."),
      serviceAccount: str('DeprecatedServiceAccount is a deprecated alias for ServiceAccountName. Deprecated: Use serviceAccountName instead.'),
      hostPID: bool("Use the host's pid namespace. Optional: Default to false."),
      hostIPC: bool("Use the host's ipc namespace. Optional: Default to false."),
      hostUsers: bool("Use the host's user namespace. Optional: Default to true."),
      shareProcessNamespace: bool('Share a single process namespace between all of the containers in a pod.'),
      setHostnameAsFQDN: bool("If true the pod's hostname will be configured as the pod's FQDN, rather than the leaf name (the default)."),
      hostAliases: {
        ...keyedList(core('HostAlias'), 'ip', "HostAliases is an optional list of hosts and IPs that will be injected into the pod's hosts file if specified."),
        'x-kubernetes-list-map-keys': ['ip'],
      },
      dnsConfig: loose('Specifies the DNS parameters of a pod.'),
      os: loose('Specifies the OS of the containers in the pod.'),
      overhead: stringMap('Overhead represents the resource overhead associated with running a pod for a given RuntimeClass.'),
      preemptionPolicy: str('PreemptionPolicy is the Policy for preempting pods with lower priority.'),
      priority: int('The priority value. Various system components use this field to find the priority of the pod.'),
      readinessGates: {
        type: 'array',
        items: loose('PodReadinessGate contains the reference to a pod condition'),
        description: 'If specified, all readiness gates will be evaluated for pod readiness.',
        'x-kubernetes-list-type': 'atomic',
      },
      resourceClaims: {
        type: 'array',
        items: loose('PodResourceClaim references exactly one ResourceClaim.'),
        description: 'ResourceClaims defines which ResourceClaims must be allocated and reserved before the Pod is allowed to start.',
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge,retainKeys',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
      resources: ref(core('ResourceRequirements'), 'Resources is the total amount of CPU and Memory resources required by all containers in the pod.'),
      runtimeClassName: str('RuntimeClassName refers to a RuntimeClass object in the node.k8s.io group, which should be used to run this pod.'),
      schedulingGates: keyedList(core('PodSchedulingGate'), 'name', 'SchedulingGates is an opaque list of values that if specified will block scheduling the pod.'),
      topologySpreadConstraints: {
        type: 'array',
        items: loose('TopologySpreadConstraint specifies how to spread matching pods among the given topology.'),
        description: 'TopologySpreadConstraints describes how a group of pods ought to spread across topology domains.',
        'x-kubernetes-patch-merge-key': 'topologyKey',
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['topologyKey', 'whenUnsatisfiable'],
      },
    },
    ['containers'],
  ),
  [core('HostAlias')]: object(
    "HostAlias holds the mapping between IP and hostnames that will be injected as an entry in the pod's hosts file.",
    {
      ip: str('IP address of the host file entry.'),
      hostnames: strings('Hostnames for the above IP address.'),
    },
    ['ip'],
  ),
  [core('PodSchedulingGate')]: object(
    'PodSchedulingGate is associated to a Pod to guard its scheduling.',
    { name: str('Name of the scheduling gate. Each scheduling gate must have a unique name field.') },
    ['name'],
  ),
  [core('Container')]: object('A single application container that you want to run within a pod.', container, ['name']),
  [core('VolumeDevice')]: object(
    'volumeDevice describes a mapping of a raw block device within a container.',
    {
      name: str('name must match the name of a persistentVolumeClaim in the pod'),
      devicePath: str('devicePath is the path inside of the container that the device will be mapped to.'),
    },
    ['name', 'devicePath'],
  ),
  [core('ContainerPort')]: object(
    'ContainerPort represents a network port in a single container.',
    {
      name: str('If specified, this must be an IANA_SVC_NAME and unique within the pod.'),
      containerPort: int("Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536."),
      protocol: str('Protocol for port. Must be UDP, TCP, or SCTP. Defaults to "TCP".', { enum: ['SCTP', 'TCP', 'UDP'], default: 'TCP' }),
      hostPort: int('Number of port to expose on the host.'),
      hostIP: str('What host IP to bind the external port to.'),
    },
    ['containerPort'],
  ),
  [core('EnvVar')]: object(
    'EnvVar represents an environment variable present in a Container.',
    {
      name: str('Name of the environment variable. Must be a C_IDENTIFIER.'),
      value: str('Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container and any service environment variables.'),
      valueFrom: loose("Source for the environment variable's value. Cannot be used if value is not empty."),
    },
    ['name'],
  ),
  [core('EnvFromSource')]: object('EnvFromSource represents the source of a set of ConfigMaps or Secrets', {
    prefix: str('Optional text to prepend to the name of each environment variable.'),
    configMapRef: loose('The ConfigMap to select from'),
    secretRef: loose('The Secret to select from'),
  }),
  [core('ResourceRequirements')]: object('ResourceRequirements describes the compute resource requirements.', {
    claims: {
      type: 'array',
      items: loose('ResourceClaim references one entry in PodSpec.ResourceClaims.'),
      description: 'Claims lists the names of resources, defined in spec.resourceClaims, that are used by this container.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    },
    limits: stringMap('Limits describes the maximum amount of compute resources allowed.'),
    requests: stringMap('Requests describes the minimum amount of compute resources required.'),
  }),
  [core('VolumeMount')]: object(
    'VolumeMount describes a mounting of a Volume within a container.',
    {
      name: str('This must match the Name of a Volume.'),
      mountPath: str("Path within the container at which the volume should be mounted. Must not contain ':'."),
      readOnly: bool('Mounted read-only if true, read-write otherwise (false or unspecified). Defaults to false.'),
      subPath: str("Path within the volume from which the container's volume should be mounted."),
      mountPropagation: str('mountPropagation determines how mounts are propagated from the host to container and the other way around.'),
      recursiveReadOnly: str('RecursiveReadOnly specifies whether read-only mounts should be handled recursively.'),
      subPathExpr: str("Expanded path within the volume from which the container's volume should be mounted."),
    },
    ['name', 'mountPath'],
  ),
  // Open beyond the sources named here: there are some thirty volume sources.
  [core('Volume')]: {
    ...object(
      'Volume represents a named volume in a pod that may be accessed by any container in the pod.',
      {
        name: str('name of the volume. Must be a DNS_LABEL and unique within the pod.'),
        ...Object.fromEntries(volumeSources.map((source) => [source, loose(`${source} represents a ${source} volume that should populate this volume`)])),
      },
      ['name'],
    ),
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [core('PodStatus')]: {
    'x-kubernetes-preserve-unknown-fields': true,
    ...object('PodStatus represents information about the status of a pod.', {
      phase: str('The phase of a Pod is a simple, high-level summary of where the Pod is in its lifecycle.', { enum: ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown'] }),
      conditions: keyedList(core('PodCondition'), 'type', 'Current service state of pod.', ['type']),
      message: str('A human readable message indicating details about why the pod is in this condition.'),
      reason: str('A brief CamelCase message indicating details about why the pod is in this state.'),
      hostIP: str('hostIP holds the IP address of the host to which the pod is assigned.'),
      podIP: str('podIP address allocated to the pod.'),
      podIPs: {
        type: 'array',
        items: loose('PodIP represents a single IP address allocated to the pod.'),
        description: 'podIPs holds the IP addresses allocated to the pod.',
        'x-kubernetes-patch-merge-key': 'ip',
        'x-kubernetes-patch-strategy': 'merge',
      },
      startTime: time('RFC 3339 date and time at which the object was acknowledged by the Kubelet.'),
      containerStatuses: {
        type: 'array',
        items: loose('ContainerStatus contains details for the current status of this container.'),
        description: 'The list has one entry per container in the manifest.',
        'x-kubernetes-list-type': 'atomic',
      },
      qosClass: str('The Quality of Service (QOS) classification assigned to the pod based on resource requirements.'),
    }),
  },
  [core('PodCondition')]: object(
    'PodCondition contains details for the current condition of this pod.',
    {
      type: str('Type is the type of the condition.'),
      status: str('Status is the status of the condition. Can be True, False, Unknown.'),
      lastProbeTime: time('Last time we probed the condition.'),
      lastTransitionTime: time('Last time the condition transitioned from one status to another.'),
      reason: str("Unique, one-word, CamelCase reason for the condition's last transition."),
      message: str('Human-readable message indicating details about last transition.'),
    },
    ['type', 'status'],
  ),
};
