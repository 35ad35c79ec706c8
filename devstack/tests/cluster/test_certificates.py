import datetime
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devstack.cluster.certificates import identities, write_pki
from devstack.cluster.settings import ClusterSettings

NOW = datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClusterSettings, Path]:
    settings = ClusterSettings(state_dir=tmp_path_factory.mktemp("cluster"))
    return settings, write_pki(settings, NOW)


def load(folder: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((folder / f"{name}.crt").read_bytes())


def test_every_identity_is_signed_by_its_authority(pki: tuple[ClusterSettings, Path]) -> None:
    settings, folder = pki
    for identity in identities(settings):
        certificate = load(folder, identity.name)
        authority = load(folder, identity.authority)
        public_key = authority.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        certificate.verify_directly_issued_by(authority)
        assert certificate.not_valid_after_utc - NOW <= datetime.timedelta(days=7)


def test_a_certificate_of_the_other_authority_does_not_verify(
    pki: tuple[ClusterSettings, Path],
) -> None:
    _, folder = pki
    with pytest.raises((ValueError, InvalidSignature)):
        load(folder, "front-proxy-client").verify_directly_issued_by(load(folder, "ca"))


def test_the_api_server_answers_to_every_name_a_client_uses(
    pki: tuple[ClusterSettings, Path],
) -> None:
    settings, folder = pki
    names = load(folder, "apiserver").extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    addresses = names.value.get_values_for_type(x509.IPAddress)
    assert settings.node_address in addresses
    assert IPv4Address("10.96.0.1") in addresses
    assert "kubernetes.default.svc.cluster.local" in names.value.get_values_for_type(x509.DNSName)


def test_groups_come_from_organisations_and_usages_match_the_role(
    pki: tuple[ClusterSettings, Path],
) -> None:
    _, folder = pki
    kubelet = load(folder, "kubelet")
    subject = kubelet.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:chat-node"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    usages = kubelet.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    admin = load(folder, "admin").extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(admin.value) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_private_keys_are_readable_by_their_owner_only(pki: tuple[ClusterSettings, Path]) -> None:
    _, folder = pki
    for key in folder.glob("*.key"):
        if key.name != "service-account.key":
            assert key.stat().st_mode & 0o077 == 0, key
    assert folder.stat().st_mode & 0o077 == 0
