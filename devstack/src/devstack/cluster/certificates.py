"""The cluster's keys and certificates, made afresh for each `up` and valid for a week.

One authority signs every component's certificate; a second one (the front proxy's) signs the
API server's identity towards aggregated APIs such as metrics-server; the service-account key
pair signs pods' tokens. Who a client is comes from its certificate: the common name is the
user, the organisations its groups (`system:masters`, `system:nodes`).
"""

import datetime
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devstack.cluster.settings import ClusterSettings

VALIDITY = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Identity:
    """A certificate to issue: its file name, subject, and what it may be used for."""

    name: str
    common_name: str
    organizations: tuple[str, ...] = ()
    server: bool = False
    client: bool = True
    dns_names: tuple[str, ...] = ()
    addresses: tuple[IPv4Address, ...] = ()
    authority: str = "ca"


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def identities(settings: ClusterSettings) -> list[Identity]:
    loopback = IPv4Address("127.0.0.1")
    node = settings.node_address
    service = "kubernetes.default.svc"
    return [
        Identity(
            "apiserver", "kube-apiserver", server=True, client=False,
            dns_names=("kubernetes", "kubernetes.default", service,
                       f"{service}.{settings.cluster_domain}", "localhost"),
            addresses=(node, loopback, settings.kubernetes_service_address),
        ),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
        Identity("admin", "cluster-admin", ("system:masters",)),
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kube-proxy", "system:kube-proxy"),
        Identity("coredns", "system:coredns"),
        Identity(
            "kubelet", f"system:node:{settings.node_name}", ("system:nodes",), server=True,
            dns_names=(settings.node_name, "localhost"), addresses=(node, loopback),
        ),
        Identity("front-proxy-client", "front-proxy-client", authority="front-proxy-ca"),
    ]  # fmt: skip


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_authority(common_name: str, now: datetime.datetime) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(certificate_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


def issue(
    authority: Authority, identity: Identity, now: datetime.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] * identity.server
    usages += [ExtendedKeyUsageOID.CLIENT_AUTH] * identity.client
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(identity.common_name, identity.organizations))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(certificate_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in identity.dns_names]
    names += [x509.IPAddress(address) for address in identity.addresses]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(authority.key, hashes.SHA256())


def _key_usage(*, certificate_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=certificate_sign,
        crl_sign=certificate_sign, encipher_only=False, decipher_only=False,
    )  # fmt: skip


def write_pki(settings: ClusterSettings, now: datetime.datetime | None = None) -> Path:
    """Writes NAME.crt and NAME.key for both authorities and every identity, and the
    service-account key pair, into the pki folder (private keys readable by root only)."""
    now = now or datetime.datetime.now(datetime.UTC)
    folder = settings.pki_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    authorities = {
        name: new_authority(f"chat-node {name}", now) for name in ("ca", "front-proxy-ca")
    }
    for name, authority in authorities.items():
        _write(folder, name, authority.key, authority.certificate)
    for identity in identities(settings):
        key, certificate = issue(authorities[identity.authority], identity, now)
        _write(folder, identity.name, key, certificate)
    service_accounts = ec.generate_private_key(ec.SECP256R1())
    (folder / "service-account.key").write_bytes(_private_bytes(service_accounts))
    (folder / "service-account.pub").write_bytes(
        service_accounts.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return folder


def _write(
    folder: Path, name: str, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> None:
    (folder / f"{name}.key").write_bytes(_private_bytes(key))
    (folder / f"{name}.key").chmod(0o600)
    (folder / f"{name}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _private_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
