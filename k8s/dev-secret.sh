#!/bin/sh
# Creates the `chat-secrets` Secret of a development namespace once, with random values.
# Never overwrites an existing Secret (Postgres keeps the password it was initialised with),
# and never writes a value anywhere but the cluster. Called by the Tiltfile; safe to re-run.
#   k8s/dev-secret.sh            # namespace "chat"
#   NAMESPACE=other k8s/dev-secret.sh
set -eu
namespace=${NAMESPACE:-chat}

if kubectl get secret chat-secrets --namespace "$namespace" >/dev/null 2>&1; then
    exit 0
fi

random_hex() {  # $1 bytes of randomness, hex: URL-safe, so it can sit inside DATABASE_URL
    head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'
}
postgres_password=$(random_hex 24)
jwt_secret=$(random_hex 32)

kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create secret generic chat-secrets --namespace "$namespace" \
    --from-literal=JWT_SECRET="$jwt_secret" \
    --from-literal=POSTGRES_PASSWORD="$postgres_password" \
    --from-literal=DATABASE_URL="postgresql+psycopg2://postgres:${postgres_password}@postgres:5432/auth"
