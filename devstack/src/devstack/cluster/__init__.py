"""A one-node Kubernetes cluster on this machine, as plain processes: `devstack cluster up`.

etcd, the API server, the controller manager and the scheduler; containerd with runc and the
CNI bridge plugin; the kubelet, kube-proxy and CoreDNS. Certificates are made for each run,
every address is loopback or the node's private bridge, all state lives in one folder, and
`down` leaves nothing behind (network.leftovers checks it).
"""
