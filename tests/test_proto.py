"""The committed protobuf modules are what `make proto` generates from the .proto files."""

import pytest

from tests.helpers import ROOT, run_python

PROTOS = sorted(path.name for path in ROOT.glob("*.proto"))


@pytest.mark.parametrize("proto", PROTOS)
def test_generated_code_is_up_to_date(tmp_path, proto):
    result = run_python(
        "-m", "grpc_tools.protoc", f"-I{ROOT}", f"--python_out={tmp_path}", f"--pyi_out={tmp_path}",
        proto,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    stem = proto.removesuffix(".proto")
    for suffix in ("_pb2.py", "_pb2.pyi"):
        generated = (tmp_path / f"{stem}{suffix}").read_text()
        committed = (ROOT / "pulpanalytics" / f"{stem}{suffix}").read_text()
        assert committed == generated, f"pulpanalytics/{stem}{suffix} is stale: run `make proto`"


def test_telemetry_declares_the_wire_field_numbers():
    from pulpanalytics.telemetry_pb2 import Telemetry

    fields = {f.name: (f.number, f.type) for f in Telemetry.DESCRIPTOR.fields}
    uint32, string, message = 13, 9, 11
    assert fields == {
        "system_id": (1, string),
        "online_content_apps": (2, message),
        "online_workers": (3, message),
        "components": (4, message),
        "postgresql_version": (5, uint32),
        "rbac_stats": (6, message),
    }
    rbac = Telemetry.DESCRIPTOR.fields_by_name["rbac_stats"].message_type
    assert [(f.name, f.number) for f in rbac.fields] == [
        ("users", 1),
        ("groups", 2),
        ("domains", 3),
        ("custom_access_policies", 4),
        ("custom_roles", 5),
    ]
    for nested in ("online_content_apps", "online_workers"):
        message_type = Telemetry.DESCRIPTOR.fields_by_name[nested].message_type
        assert [(f.name, f.number, f.type) for f in message_type.fields] == [
            ("processes", 1, uint32),
            ("hosts", 2, uint32),
        ]
