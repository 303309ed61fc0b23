from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Summary(_message.Message):
    __slots__ = ("date", "systems", "new_systems", "persistent_systems", "age", "components", "postgresql_versions", "online_workers", "online_content_apps", "rbac", "compatibility", "postgresql_core", "upgrades", "fields", "returning", "deployment_sizes", "source")
    class AgeCount(_message.Message):
        __slots__ = ("days", "count", "other")
        DAYS_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        days: int
        count: int
        other: bool
        def __init__(self, days: _Optional[int] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class VersionCount(_message.Message):
        __slots__ = ("version", "count", "other")
        VERSION_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        version: str
        count: int
        other: bool
        def __init__(self, version: _Optional[str] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class Component(_message.Message):
        __slots__ = ("name", "systems", "xy", "xyz", "other")
        NAME_FIELD_NUMBER: _ClassVar[int]
        SYSTEMS_FIELD_NUMBER: _ClassVar[int]
        XY_FIELD_NUMBER: _ClassVar[int]
        XYZ_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        name: str
        systems: int
        xy: _containers.RepeatedCompositeFieldContainer[Summary.VersionCount]
        xyz: _containers.RepeatedCompositeFieldContainer[Summary.VersionCount]
        other: bool
        def __init__(self, name: _Optional[str] = ..., systems: _Optional[int] = ..., xy: _Optional[_Iterable[_Union[Summary.VersionCount, _Mapping]]] = ..., xyz: _Optional[_Iterable[_Union[Summary.VersionCount, _Mapping]]] = ..., other: _Optional[bool] = ...) -> None: ...
    class PostgresqlVersionCount(_message.Message):
        __slots__ = ("version", "count", "other")
        VERSION_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        version: int
        count: int
        other: bool
        def __init__(self, version: _Optional[int] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class ProcessesAndHosts(_message.Message):
        __slots__ = ("processes_avg", "hosts_avg", "processes_p50", "processes_p90", "hosts_p50", "hosts_p90")
        PROCESSES_AVG_FIELD_NUMBER: _ClassVar[int]
        HOSTS_AVG_FIELD_NUMBER: _ClassVar[int]
        PROCESSES_P50_FIELD_NUMBER: _ClassVar[int]
        PROCESSES_P90_FIELD_NUMBER: _ClassVar[int]
        HOSTS_P50_FIELD_NUMBER: _ClassVar[int]
        HOSTS_P90_FIELD_NUMBER: _ClassVar[int]
        processes_avg: float
        hosts_avg: float
        processes_p50: int
        processes_p90: int
        hosts_p50: int
        hosts_p90: int
        def __init__(self, processes_avg: _Optional[float] = ..., hosts_avg: _Optional[float] = ..., processes_p50: _Optional[int] = ..., processes_p90: _Optional[int] = ..., hosts_p50: _Optional[int] = ..., hosts_p90: _Optional[int] = ...) -> None: ...
    class RbacCount(_message.Message):
        __slots__ = ("measure", "number", "count", "other")
        MEASURE_FIELD_NUMBER: _ClassVar[int]
        NUMBER_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        measure: str
        number: int
        count: int
        other: bool
        def __init__(self, measure: _Optional[str] = ..., number: _Optional[int] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class CompatibilityCount(_message.Message):
        __slots__ = ("component", "version", "core", "count", "other")
        COMPONENT_FIELD_NUMBER: _ClassVar[int]
        VERSION_FIELD_NUMBER: _ClassVar[int]
        CORE_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        component: str
        version: str
        core: str
        count: int
        other: bool
        def __init__(self, component: _Optional[str] = ..., version: _Optional[str] = ..., core: _Optional[str] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class PostgresqlCoreCount(_message.Message):
        __slots__ = ("postgresql", "core", "count", "other")
        POSTGRESQL_FIELD_NUMBER: _ClassVar[int]
        CORE_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        postgresql: str
        core: str
        count: int
        other: bool
        def __init__(self, postgresql: _Optional[str] = ..., core: _Optional[str] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class UpgradeCount(_message.Message):
        __slots__ = ("component", "to", "count", "other")
        COMPONENT_FIELD_NUMBER: _ClassVar[int]
        FROM_FIELD_NUMBER: _ClassVar[int]
        TO_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        component: str
        to: str
        count: int
        other: bool
        def __init__(self, component: _Optional[str] = ..., to: _Optional[str] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ..., **kwargs) -> None: ...
    class FieldCount(_message.Message):
        __slots__ = ("field", "systems", "other")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        SYSTEMS_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        field: str
        systems: int
        other: bool
        def __init__(self, field: _Optional[str] = ..., systems: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    class DeploymentSizeCount(_message.Message):
        __slots__ = ("field", "part", "number", "count", "other")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        PART_FIELD_NUMBER: _ClassVar[int]
        NUMBER_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        OTHER_FIELD_NUMBER: _ClassVar[int]
        field: str
        part: str
        number: int
        count: int
        other: bool
        def __init__(self, field: _Optional[str] = ..., part: _Optional[str] = ..., number: _Optional[int] = ..., count: _Optional[int] = ..., other: _Optional[bool] = ...) -> None: ...
    DATE_FIELD_NUMBER: _ClassVar[int]
    SYSTEMS_FIELD_NUMBER: _ClassVar[int]
    NEW_SYSTEMS_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_SYSTEMS_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    POSTGRESQL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_CONTENT_APPS_FIELD_NUMBER: _ClassVar[int]
    RBAC_FIELD_NUMBER: _ClassVar[int]
    COMPATIBILITY_FIELD_NUMBER: _ClassVar[int]
    POSTGRESQL_CORE_FIELD_NUMBER: _ClassVar[int]
    UPGRADES_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    RETURNING_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_SIZES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    date: str
    systems: int
    new_systems: int
    persistent_systems: int
    age: _containers.RepeatedCompositeFieldContainer[Summary.AgeCount]
    components: _containers.RepeatedCompositeFieldContainer[Summary.Component]
    postgresql_versions: _containers.RepeatedCompositeFieldContainer[Summary.PostgresqlVersionCount]
    online_workers: Summary.ProcessesAndHosts
    online_content_apps: Summary.ProcessesAndHosts
    rbac: _containers.RepeatedCompositeFieldContainer[Summary.RbacCount]
    compatibility: _containers.RepeatedCompositeFieldContainer[Summary.CompatibilityCount]
    postgresql_core: _containers.RepeatedCompositeFieldContainer[Summary.PostgresqlCoreCount]
    upgrades: _containers.RepeatedCompositeFieldContainer[Summary.UpgradeCount]
    fields: _containers.RepeatedCompositeFieldContainer[Summary.FieldCount]
    returning: int
    deployment_sizes: _containers.RepeatedCompositeFieldContainer[Summary.DeploymentSizeCount]
    source: str
    def __init__(self, date: _Optional[str] = ..., systems: _Optional[int] = ..., new_systems: _Optional[int] = ..., persistent_systems: _Optional[int] = ..., age: _Optional[_Iterable[_Union[Summary.AgeCount, _Mapping]]] = ..., components: _Optional[_Iterable[_Union[Summary.Component, _Mapping]]] = ..., postgresql_versions: _Optional[_Iterable[_Union[Summary.PostgresqlVersionCount, _Mapping]]] = ..., online_workers: _Optional[_Union[Summary.ProcessesAndHosts, _Mapping]] = ..., online_content_apps: _Optional[_Union[Summary.ProcessesAndHosts, _Mapping]] = ..., rbac: _Optional[_Iterable[_Union[Summary.RbacCount, _Mapping]]] = ..., compatibility: _Optional[_Iterable[_Union[Summary.CompatibilityCount, _Mapping]]] = ..., postgresql_core: _Optional[_Iterable[_Union[Summary.PostgresqlCoreCount, _Mapping]]] = ..., upgrades: _Optional[_Iterable[_Union[Summary.UpgradeCount, _Mapping]]] = ..., fields: _Optional[_Iterable[_Union[Summary.FieldCount, _Mapping]]] = ..., returning: _Optional[int] = ..., deployment_sizes: _Optional[_Iterable[_Union[Summary.DeploymentSizeCount, _Mapping]]] = ..., source: _Optional[str] = ...) -> None: ...
