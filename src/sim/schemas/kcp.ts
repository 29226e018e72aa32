// apiextensions.k8s.io and kcp's own kinds: their top-level fields, with open objects below where the
// stand-in does not need more (any content stays valid, as with x-kubernetes-preserve-unknown-fields).
import { atomicList, bool, kind, loose, object, str, strings, type Schema } from './builders.ts';
import { conditionsField } from './meta.ts';

const statusOf = (description: string, extra: Record<string, Schema> = {}): Schema => ({
  ...object(description, { conditions: conditionsField('Current state of the object.'), phase: str('Phase of the object.'), ...extra }),
  'x-kubernetes-preserve-unknown-fields': true,
});
const openSpec = (description: string, properties: Record<string, Schema>): Schema => ({ ...object(description, properties), 'x-kubernetes-preserve-unknown-fields': true });
const names = loose('Names are the names used to describe this custom resource (plural, singular, kind, listKind, shortNames, categories).');

export const kcpSchemas: Record<string, Schema> = {
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition': kind(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'CustomResourceDefinition represents a resource that should be exposed on the API server. Its name MUST be in the format <.spec.name>.<.spec.group>.',
    {
      spec: openSpec('CustomResourceDefinitionSpec describes how a user wants their resource to appear', {
        group: str('group is the API group of the defined custom resource.'),
        names,
        scope: str('scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`.'),
        versions: {
          type: 'array',
          items: loose('CustomResourceDefinitionVersion describes a version for CRD.'),
          description: 'versions is the list of all API versions of the defined custom resource.',
          'x-kubernetes-list-type': 'atomic',
        },
        conversion: loose('conversion defines conversion settings for the CRD.'),
        preserveUnknownFields: bool(
          'preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage.',
        ),
      }),
      status: statusOf('CustomResourceDefinitionStatus indicates the state of the CustomResourceDefinition', {
        acceptedNames: loose('acceptedNames are the names that are actually being used to serve discovery.'),
        storedVersions: strings('storedVersions lists all versions of CustomResources that were ever persisted.'),
      }),
    },
  ),
  'io.kcp.tenancy.v1alpha1.Workspace': kind(
    'tenancy.kcp.io',
    'v1alpha1',
    'Workspace',
    'Workspace defines a generic Kubernetes-cluster-like endpoint, with standard Kubernetes discovery APIs, OpenAPI and resource API endpoints.',
    {
      spec: openSpec('WorkspaceSpec holds the desired state of the Workspace.', {
        type: object('type defines properties of the workspace both on creation (e.g. initial resources and initially installed APIs) and during runtime (e.g. permissions).', {
          name: str('name is the name of the workspace type'),
          path: str('path is an absolute reference to the workspace that owns this type'),
        }),
        location: loose('location constraints where this workspace can be scheduled to.'),
        URL: str(
          'URL is the address under which the Kubernetes-cluster-like endpoint can be found. This URL can be used to access the workspace with standard Kubernetes client libraries and command line tools.',
        ),
        cluster: str('cluster is the name of the logical cluster this workspace is stored under.'),
      }),
      status: statusOf('WorkspaceStatus communicates the observed state of the Workspace.', {
        initializers: strings('initializers must be cleared by a controller before the workspace is ready.'),
      }),
    },
  ),
  'io.kcp.core.v1alpha1.LogicalCluster': kind(
    'core.kcp.io',
    'v1alpha1',
    'LogicalCluster',
    'LogicalCluster describes the current logical cluster. It is used to authorize requests to the logical cluster and to track state.',
    {
      spec: openSpec('LogicalClusterSpec is the specification of the LogicalCluster resource.', {
        directlyDeletable: bool('DirectlyDeletable indicates that this logical cluster can be directly deleted by the user.'),
        owner: loose('owner is a reference to a resource controlling the life-cycle of this logical cluster.'),
        initializers: strings('initializers are set on creation by the system and copied to status when initialization starts.'),
      }),
      status: statusOf('LogicalClusterStatus communicates the observed state of the Workspace.', {
        URL: str('url is the address under which the Kubernetes-cluster-like endpoint can be found.'),
        initializers: strings('initializers are set on creation by the system and must be cleared by a controller before the logical cluster can be used.'),
      }),
    },
  ),
  'io.kcp.apis.v1alpha1.APIResourceSchema': kind(
    'apis.kcp.io',
    'v1alpha1',
    'APIResourceSchema',
    'APIResourceSchema describes a resource, identified by (group, version, resource, schema). An APIResourceSchema is immutable and cannot be deleted if they are referenced by an APIExport in the same workspace.',
    {
      spec: openSpec('APIResourceSchemaSpec defines the desired state of APIResourceSchema.', {
        group: str('group is the API group of the defined custom resource.'),
        names,
        scope: str('scope indicates whether the defined custom resource is cluster- or namespace-scoped.'),
        versions: {
          type: 'array',
          items: loose('APIResourceVersion describes one API version of a resource.'),
          description: 'versions is the API version of the defined custom resource.',
          'x-kubernetes-list-type': 'atomic',
        },
      }),
    },
  ),
  'io.kcp.apis.v1alpha1.APIExport': kind(
    'apis.kcp.io',
    'v1alpha1',
    'APIExport',
    'APIExport registers an API and implementation to allow consumption by others through APIBindings.',
    {
      spec: openSpec('APIExportSpec defines the desired state of APIExport.', {
        latestResourceSchemas: strings('latestResourceSchemas records the latest APIResourceSchemas that are exposed with this APIExport.', 'set'),
        permissionClaims: atomicList(
          'io.kcp.apis.v1alpha1.PermissionClaim',
          "permissionClaims make resources available in APIExport's virtual workspace that are not part of the actual APIExport resources.",
        ),
        identity: loose("identity points to a secret that contains the API identity in the 'key' file."),
      }),
      status: statusOf('APIExportStatus defines the observed state of APIExport.', {
        identityHash: str('identityHash is the hash of the API identity that this APIExport represents.'),
      }),
    },
  ),
  'io.kcp.apis.v1alpha1.PermissionClaim': {
    ...object('PermissionClaim identifies an object by GR and identity hash.', {
      group: str('group is the name of an API group.'),
      resource: str('resource is the name of the resource.'),
      identityHash: str('This is the identity for a given APIExport that the APIResourceSchema belongs to.'),
      all: bool('all claims all resources for the given group/resource.'),
    }),
    'x-kubernetes-preserve-unknown-fields': true,
  },
  'io.kcp.apis.v1alpha1.APIBinding': kind(
    'apis.kcp.io',
    'v1alpha1',
    'APIBinding',
    'APIBinding enables a set of resources and their behaviour through an external service provider in this workspace.',
    {
      spec: openSpec('APIBindingSpec records the APIs and implementations that are to be bound.', {
        reference: object('reference uniquely identifies an API to bind to.', {
          export: object('export is a reference to an APIExport by cluster name and export name.', {
            path: str('path is a logical cluster path where the APIExport is defined.'),
            name: str('name is the name of the APIExport that describes the API.'),
          }),
        }),
        permissionClaims: atomicList('io.kcp.apis.v1alpha1.PermissionClaim', 'permissionClaims records decisions about permission claims requested by the API service provider.'),
      }),
      status: statusOf('APIBindingStatus records which schemas are bound.', {
        boundResources: {
          type: 'array',
          items: loose('BoundAPIResource describes a bound GroupVersionResource through an APIResourceSchema of an APIExport.'),
          description: 'boundResources records the state of bound APIs.',
          'x-kubernetes-list-type': 'atomic',
        },
      }),
    },
  ),
  'io.kcp.apis.v1alpha1.APIExportEndpointSlice': kind('apis.kcp.io', 'v1alpha1', 'APIExportEndpointSlice', 'APIExportEndpointSlice is a sink for the endpoints of an APIExport.', {
    spec: openSpec('APIExportEndpointSliceSpec defines the desired state of the APIExportEndpointSlice.', {
      export: object('export points to the API export.', {
        path: str('path is a logical cluster path where the APIExport is defined.'),
        name: str('name is the name of the APIExport that describes the API.'),
      }),
      partition: str('partition points to a partition that is used for filtering the endpoints of the APIExport part of the slice.'),
    }),
    status: statusOf('APIExportEndpointSliceStatus defines the observed state of APIExportEndpointSlice.', {
      endpoints: {
        type: 'array',
        items: object('APIExportEndpoint contains the endpoint information of an APIExport service for a specific shard.', {
          url: str('url is an APIExport virtual workspace URL.'),
        }),
        description: 'endpoints contains all the URLs of the APIExport service.',
        'x-kubernetes-list-type': 'atomic',
      },
    }),
  }),
};
