// Access to clusters: kubeconfig contexts from svctl.clusters, clients, error mapping.
// Everything that loads @kubernetes/client-node is behind connect() (it costs ~300 ms to import).
export {preloadClient, connect, connectEnvironment, fencedClients, kubeError, statusOf, messageOf, type KubeClients, type ConnectOptions} from './client.js';
