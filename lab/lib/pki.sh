# The lab's PKI, made with openssl: one CA, the API server's serving certificate, one client
# certificate per identity, the ServiceAccount signing key, and the deliberately expired
# certificates the faults use. Sourced by lab/up; idempotent (existing files are kept).

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pki_ca_conf() {
  cat >"$PKI/ca.conf" <<EOF
[ ca ]
default_ca = lab
[ lab ]
dir = $PKI/ca-db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/new
certificate = $PKI/ca.crt
private_key = $PKI/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = copy
[ anything ]
commonName = supplied
organizationName = optional
[ client ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
EOF
  mkdir -p "$PKI/ca-db/new"
  [ -f "$PKI/ca-db/index.txt" ] || : >"$PKI/ca-db/index.txt"
  [ -f "$PKI/ca-db/serial" ] || echo 1000 >"$PKI/ca-db/serial"
}

# mkcert NAME SUBJECT client|server [SAN] [STARTDATE ENDDATE]
# Dates are openssl's YYYYMMDDHHMMSSZ; without them the certificate is valid for a year.
mkcert() {
  local name=$1 subj=$2 kind=$3 san=${4:-} start=${5:-} end=${6:-}
  [ -f "$PKI/$name.crt" ] && return 0
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  local reqext=()
  if [ -n "$san" ]; then
    printf '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=%s\n' "$san" >"$PKI/$name.req.conf"
    reqext=(-config "$PKI/$name.req.conf" -reqexts ext)
  fi
  openssl req -new -key "$PKI/$name.key" -subj "$subj" "${reqext[@]}" -out "$PKI/$name.csr" 2>/dev/null
  local dates=(-days 365)
  if [ -n "$start" ]; then dates=(-startdate "$start" -enddate "$end"); fi
  openssl ca -batch -config "$PKI/ca.conf" -extensions "$kind" -notext \
    "${dates[@]}" -in "$PKI/$name.csr" -out "$PKI/$name.crt" 2>"$PKI/$name.ca.log" ||
    die "openssl could not sign $name (see $PKI/$name.ca.log)"
  rm -f "$PKI/$name.csr" "$PKI/$name.req.conf"
}

make_pki() {
  mkdir -p "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=kube-doctor-lab-ca" -days 3650 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$PKI/ca.crt" 2>/dev/null
  fi
  pki_ca_conf
  local api_san="IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  if [ "$LAB_NETWORK" = host ]; then
    # The load balancer's and every control-plane node's address (kubeadm puts the
    # controlPlaneEndpoint and the node's address in each API server's certificate).
    api_san="$api_san,IP:$LB_IP,IP:$(cp_ip 0),IP:$(cp_ip 1),IP:$(cp_ip 2),DNS:kubernetes.default.svc.cluster.local"
  fi
  mkcert apiserver "/CN=kube-apiserver" server "$api_san"
  # The apiserver-cert-expired fault swaps this in: same names, validity over in 2024.
  mkcert apiserver-expired "/CN=kube-apiserver" server "$api_san" 20240101000000Z 20240102000000Z
  mkcert webhook "/CN=lab-webhook" server "IP:127.0.0.1,DNS:localhost"
  mkcert admin "/CN=lab-admin/O=system:masters" client
  mkcert kube-controller-manager "/CN=system:kube-controller-manager" client
  mkcert kube-scheduler "/CN=system:kube-scheduler" client
  mkcert kwok "/CN=kwok/O=system:masters" client
  mkcert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client/O=system:masters" client
  mkcert prometheus "/CN=lab-prometheus" client
  mkcert kube-doctor "/CN=kube-doctor" client
  mkcert kube-doctor-narrow "/CN=kube-doctor-narrow" client
  mkcert demo-clientgo "/CN=demo-clientgo/O=demo-clients" client
  # The expired-client-cert fault swaps this in.
  mkcert demo-clientgo-expired "/CN=demo-clientgo/O=demo-clients" client "" 20240101000000Z 20240102000000Z
  if [ "$LAB_NETWORK" = host ]; then
    # The aggregation layer's client (aggregated APIs, apiservice-unavailable).
    mkcert front-proxy-client "/CN=front-proxy-client" client
    # Control-plane nodes: the kubelet stand-in's client identity and serving certificate.
    local i node
    for i in 0 1 2; do
      node=$(cp_node "$i")
      mkcert "node-$node" "/CN=system:node:$node/O=system:nodes" client
      mkcert "kubelet-$node" "/CN=$node" server "IP:$(cp_ip "$i"),DNS:$node"
    done
    mkcert policy-webhook "/CN=policy-webhook.policy.svc" server "DNS:policy-webhook.policy.svc,DNS:policy-webhook.policy.svc.cluster.local,IP:127.0.0.1"
  fi
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
}

# kubeconfig FILE USER SERVER (cert:NAME | token:TOKEN)
write_kubeconfig() {
  local file=$1 user=$2 server=$3 cred=$4
  mkdir -p "$(dirname "$file")"
  local auth
  case $cred in
    cert:*)
      local n=${cred#cert:}
      auth="    client-certificate: $PKI/$n.crt
    client-key: $PKI/$n.key"
      ;;
    token:*) auth="    token: ${cred#token:}" ;;
  esac
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $server
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
$auth
contexts:
- name: lab
  context: {cluster: lab, user: $user, namespace: $NS}
current-context: lab
EOF
  chmod 600 "$file"
}
