//! Lenient decoding helpers shared by the slim row types.
//!
//! Real API objects are messy (see shared/fixtures/real): `conditions: {}` as a map,
//! `status: null`, unquoted timestamps, missing sections. The slim decoders skip what
//! they cannot read instead of failing the whole object, so one odd field never hides
//! a pod from the on-call engineer.

use std::fmt;
use std::marker::PhantomData;

use jiff::Timestamp;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A list that decodes to empty when the wire has a map, a scalar or null instead.
#[derive(Debug, Clone, PartialEq)]
pub struct LenientVec<T>(pub Vec<T>);

impl<T> Default for LenientVec<T> {
    fn default() -> Self {
        LenientVec(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LenientVec<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = LenientVec<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element::<Lenient<T>>()? {
                    if let Lenient(Some(item)) = item {
                        out.push(item);
                    }
                }
                Ok(LenientVec(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LenientVec(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(LenientVec(Vec::new()))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// One list element: a map is decoded straight into `T` (streaming, no buffering);
/// anything else (null, a scalar, a nested list) is skipped as None.
///
/// Buffering each element into a `serde_json::Value` first made the pod decoder
/// six times slower; real API servers send well-typed elements, and the fields
/// where real objects do vary are lenient themselves (`LenientVec`, `WireTime`,
/// `lenient_bool`, `lenient_u32`).
struct Lenient<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list element")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|t| Lenient(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// A bool that reads `true`/`"true"` as true and anything else as false.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s == "true",
        _ => false,
    })
}

/// A count that reads a number (or a numeric string) and anything else as 0.
pub fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        serde_json::Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    })
}

/// A timestamp that decodes to None when absent, null or unparseable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireTime(pub Option<Timestamp>);

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireTime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 time")
            }
            fn visit_str<E>(self, s: &str) -> Result<WireTime, E> {
                Ok(WireTime(s.parse().ok()))
            }
            fn visit_unit<E>(self) -> Result<WireTime, E> {
                Ok(WireTime(None))
            }
            fn visit_none<E>(self) -> Result<WireTime, E> {
                Ok(WireTime(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<WireTime, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_i64<E>(self, _: i64) -> Result<WireTime, E> {
                Ok(WireTime(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<WireTime, E> {
                Ok(WireTime(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireTime, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(WireTime(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The metadata fields the slim rows keep. `managedFields` and the rest are skipped
/// by serde without being built.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MetaWire {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub generation: Option<i64>,
    pub creation_timestamp: WireTime,
    pub deletion_timestamp: WireTime,
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
    pub owner_references: LenientVec<OwnerRefWire>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerRefWire {
    pub kind: String,
    pub name: String,
    pub controller: Option<bool>,
}

impl MetaWire {
    /// The controlling owner (kind, name), as `kubectl` shows it.
    pub fn controller(&self) -> Option<(String, String)> {
        let refs = &self.owner_references.0;
        refs.iter()
            .find(|r| r.controller == Some(true))
            .or_else(|| refs.first())
            .map(|r| (r.kind.clone(), r.name.clone()))
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref()?.get(key).map(String::as_str)
    }

    /// The service a workload belongs to, by the labels the ecosystem uses.
    pub fn app_label(&self) -> Option<String> {
        self.label("app.kubernetes.io/name")
            .or_else(|| self.label("app"))
            .map(str::to_owned)
    }
}

/// Implements `kube::Resource` for a slim watched type whose only metadata is the
/// resourceVersion the watcher needs to resume.
macro_rules! slim_resource {
    ($ty:ty, $kind:literal, $group:literal, $version:literal, $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;
            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                $version.into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.meta
            }
            fn meta_mut(
                &mut self,
            ) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.meta
            }
        }
    };
}
pub(crate) use slim_resource;

/// The transient metadata a watched slim object carries: only what the watcher reads.
pub fn watch_meta(meta: &MetaWire) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: meta.name.clone(),
        resource_version: meta.resource_version.clone(),
        ..Default::default()
    }
}
