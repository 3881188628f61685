//! The verb handlers: get, list, create, update (PUT), patch, delete, with status and scale
//! subresources, generation bumps, dry run, graceful pod deletion and Table output.

use axum::response::Response;
use bytes::{BufMut, BytesMut};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::{check_type, finish_update, prepare_create};
use crate::api::fieldcheck::{self, FieldValidation};
use crate::api::paging;
use crate::api::table::{IncludeObject, to_table};
use crate::api::{ApiRequest, json_response, value_response};
use crate::clock::fmt_time;
use crate::controllers::gc;
use crate::resources::{self, ResourceDef};
use crate::status::{ApiError, success_deleted};
use crate::store::patch::{self, PatchError, PatchType};
use crate::store::selector::{FieldSelector, LabelSelector};
use crate::store::{Entry, Meta, WriteMode};

/// Label + field selectors of a list or watch request, as one index-field filter.
pub struct Filter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_request(req: &ApiRequest) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(req.query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let fields = FieldSelector::parse(req.query.get("fieldSelector").unwrap_or(""), req.def)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Filter { labels, fields })
    }

    pub fn matches(&self, m: &Meta) -> bool {
        self.labels.matches(m) && self.fields.matches(m)
    }
}

fn name_of(req: &ApiRequest) -> &str {
    req.name.as_deref().unwrap_or("")
}

fn ns_of(req: &ApiRequest) -> &str {
    req.ns.as_deref().unwrap_or("")
}

fn fetch(shared: &Shared, req: &ApiRequest) -> Result<Entry, ApiError> {
    shared
        .store
        .get(req.def, ns_of(req), name_of(req))
        .ok_or_else(|| ApiError::not_found(req.def, name_of(req)))
}

fn parse_body(req: &ApiRequest) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(&req.body).map_err(|e| {
        if req.body.starts_with(b"k8s\0") {
            ApiError::unsupported_media("application/json, application/yaml")
        } else {
            ApiError::bad_request(format!("error decoding request body: {e}"))
        }
    })?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "error decoding request body: expected a JSON object",
        ));
    }
    Ok(v)
}

fn table_or_object(shared: &Shared, req: &ApiRequest, v: &Value, rv: u64) -> Response {
    if req.table {
        let include = IncludeObject::parse(req.query.get("includeObject"));
        value_response(
            200,
            &to_table(
                req.def,
                std::slice::from_ref(v),
                rv,
                shared.clock.now(),
                true,
                include,
            ),
        )
    } else {
        value_response(200, v)
    }
}

fn scale_of(def: &ResourceDef, v: &Value) -> Value {
    let md = &v["metadata"];
    let selector = v
        .pointer("/spec/selector")
        .and_then(|s| LabelSelector::from_object(s).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let _ = def;
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": md["name"], "namespace": md["namespace"], "uid": md["uid"],
            "resourceVersion": md["resourceVersion"], "creationTimestamp": md["creationTimestamp"],
        },
        "spec": {"replicas": v.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": v.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

pub fn get(shared: &Shared, req: &ApiRequest) -> Result<Response, ApiError> {
    let e = fetch(shared, req)?;
    if req.sub.as_deref() == Some("scale") {
        return Ok(value_response(200, &scale_of(req.def, &e.value())));
    }
    if req.table {
        return Ok(table_or_object(shared, req, &e.value(), e.meta.rv));
    }
    Ok(json_response(200, e.json))
}

pub fn list(shared: &Shared, req: &ApiRequest) -> Result<Response, ApiError> {
    if req.sub.is_some() {
        return Err(ApiError::method_not_allowed());
    }
    let filter = Filter::from_request(req)?;
    let page = paging::Page::from_request(req)?;
    let mut inconsistent = false;
    let (rv, items, more) = match (&page.after, page.rv) {
        // An unpaged list, or a continue token with rv -1: the current state.
        (None, _) if page.limit == usize::MAX => {
            let (rv, items) = shared
                .store
                .list(req.def, req.ns.as_deref(), |m| filter.matches(m));
            (rv, items, false)
        }
        (Some(_), Some(-1)) => {
            inconsistent = true;
            shared.store.list_page(
                req.def,
                req.ns.as_deref(),
                page.after.clone(),
                page.limit,
                |m| filter.matches(m),
            )
        }
        // A first page that has more to come keeps its whole list for the next pages.
        (None, _) => {
            let (rv, all) = shared
                .store
                .list(req.def, req.ns.as_deref(), |m| filter.matches(m));
            let (items, more) = paging::cut(&all, None, page.limit);
            if more {
                let key = paging::SnapshotKey::of(req, rv);
                shared.store.snapshots.keep(key, std::sync::Arc::new(all));
            }
            (rv, items, more)
        }
        (Some(after), rv) => {
            let rv = rv.and_then(|r| u64::try_from(r).ok()).unwrap_or(0);
            let Some(all) = shared
                .store
                .snapshots
                .find(&paging::SnapshotKey::of(req, rv))
            else {
                return Ok(value_response(410, &paging::expired_status(after)));
            };
            let (items, more) = paging::cut(&all, Some(after), page.limit);
            (rv, items, more)
        }
    };
    let cont = more
        .then(|| {
            items.last().map(|e| {
                page.token(
                    if inconsistent {
                        -1
                    } else {
                        i64::try_from(rv).unwrap_or(-1)
                    },
                    &e.meta,
                )
            })
        })
        .flatten();
    let mut md = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = &cont {
        md["continue"] = json!(c);
    }
    if req.table {
        let values: Vec<Value> = items.iter().map(Entry::value).collect();
        let include = IncludeObject::parse(req.query.get("includeObject"));
        let mut t = to_table(req.def, &values, rv, shared.clock.now(), true, include);
        t["metadata"] = md;
        return Ok(value_response(200, &t));
    }
    // Assemble the list from the stored bytes without re-parsing any item.
    let head = json!({"kind": format!("{}List", req.def.kind), "apiVersion": req.def.api_version(),
        "metadata": md});
    let head = serde_json::to_string(&head).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut buf = BytesMut::with_capacity(
        head.len() + items.iter().map(|e| e.json.len() + 1).sum::<usize>() + 16,
    );
    buf.put_slice(&head.as_bytes()[..head.len() - 1]);
    buf.put_slice(b",\"items\":[");
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            buf.put_u8(b',');
        }
        buf.put_slice(&e.json);
    }
    buf.put_slice(b"]}");
    Ok(json_response(200, buf.freeze()))
}

fn field_validation(req: &ApiRequest) -> Result<FieldValidation, ApiError> {
    FieldValidation::parse(req.query.get("fieldValidation"))
}

/// Adds one `Warning` header per message, as the API server does for unknown fields.
fn with_warnings(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        if let Ok(v) = axum::http::HeaderValue::from_str(&fieldcheck::warning_header(w)) {
            r.headers_mut().append(axum::http::header::WARNING, v);
        }
    }
    r
}

pub fn create(shared: &Shared, req: &ApiRequest) -> Result<Response, ApiError> {
    if req.sub.is_some() {
        return Err(ApiError::method_not_allowed());
    }
    let dry = req.dry_run()?;
    let mut obj = parse_body(req)?;
    let warnings = fieldcheck::check(req.def, &obj, field_validation(req)?)?;
    prepare_create(shared, req.def, req.ns.as_deref(), &mut obj)?;
    if dry {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        if shared.store.get(req.def, ns_of(req), &name).is_some() {
            return Err(ApiError::already_exists(req.def, &name));
        }
        return Ok(with_warnings(value_response(201, &obj), &warnings));
    }
    let e = shared.store.write(req.def, &mut obj, WriteMode::Create)?;
    Ok(with_warnings(json_response(201, e.json), &warnings))
}

/// Applies `change` to the stored object and writes it, retrying on races with controllers.
fn modify(
    shared: &Shared,
    req: &ApiRequest,
    change: impl Fn(&Value) -> Result<(Value, Option<u64>), ApiError>,
) -> Result<Value, ApiError> {
    let dry = req.dry_run()?;
    let mut last = None;
    for _ in 0..8 {
        let e = fetch(shared, req)?;
        let old = e.value();
        let (proposed, precondition) = change(&old)?;
        if precondition.is_some_and(|rv| rv != e.meta.rv) {
            return Err(ApiError::conflict(req.def, name_of(req)));
        }
        let mut new = finish_update(req.def, req.sub.as_deref(), &old, proposed)?;
        if dry {
            return Ok(new);
        }
        if new == old {
            return Ok(old);
        }
        match shared
            .store
            .write(req.def, &mut new, WriteMode::Update(Some(e.meta.rv)))
        {
            Ok(written) => {
                finish_deletion(shared, req, &new, &written);
                return Ok(new);
            }
            Err(err) if err.reason == "Conflict" => last = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::conflict(req.def, name_of(req))))
}

/// An object being deleted whose last finalizer an update removed is gone (pods excepted:
/// the kubelet removes those after their grace period).
fn finish_deletion(shared: &Shared, req: &ApiRequest, new: &Value, written: &Entry) {
    let no_finalizers = new
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if written.meta.deleting && no_finalizers && req.def.id != resources::PODS {
        let _ = shared
            .store
            .delete(req.def, ns_of(req), name_of(req), Some(&written.meta.uid));
    }
}

fn rv_precondition(obj: &Value) -> Result<Option<u64>, ApiError> {
    match obj
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}"))),
    }
}

fn replicas_from_scale(scale: &Value) -> Result<i64, ApiError> {
    scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .filter(|r| *r >= 0)
        .ok_or_else(|| ApiError::bad_request("spec.replicas: must be a non-negative integer"))
}

pub fn update(shared: &Shared, req: &ApiRequest) -> Result<Response, ApiError> {
    let body = parse_body(req)?;
    if req.sub.as_deref() == Some("scale") {
        let replicas = replicas_from_scale(&body)?;
        let pre = rv_precondition(&body)?;
        let scaled = modify(shared, &scaled_req(req), |old| {
            let mut n = old.clone();
            n["spec"]["replicas"] = json!(replicas);
            Ok((n, pre))
        })?;
        return Ok(value_response(200, &scale_of(req.def, &scaled)));
    }
    let mut warnings = Vec::new();
    if req.sub.is_none() {
        check_type(req.def, &body)?;
        warnings = fieldcheck::check(req.def, &body, field_validation(req)?)?;
    }
    let pre = rv_precondition(&body)?;
    let v = modify(shared, req, |_| Ok((body.clone(), pre)))?;
    Ok(with_warnings(value_response(200, &v), &warnings))
}

fn scaled_req(req: &ApiRequest) -> ApiRequest {
    ApiRequest {
        def: req.def,
        ns: req.ns.clone(),
        name: req.name.clone(),
        sub: None,
        query: req.query.clone(),
        table: false,
        content_type: String::new(),
        body: Default::default(),
    }
}

pub fn patch(shared: &Shared, req: &ApiRequest) -> Result<Response, ApiError> {
    let ty = PatchType::from_content_type(&req.content_type)
        .ok_or_else(|| ApiError::unsupported_media(patch::ACCEPTED))?;
    // A CRD has no Go struct to carry patch-merge keys, so the real server refuses.
    if ty == PatchType::Strategic && resources::is_custom(req.def) {
        return Err(ApiError::unsupported_media(patch::ACCEPTED_CUSTOM));
    }
    if req.sub.as_deref() == Some("scale") {
        let scaled = modify(shared, &scaled_req(req), |old| {
            let mut scale = scale_of(req.def, old);
            patch::apply(&mut scale, ty, &req.body)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let replicas = replicas_from_scale(&scale)?;
            let mut n = old.clone();
            n["spec"]["replicas"] = json!(replicas);
            Ok((n, None))
        })?;
        return Ok(value_response(200, &scale_of(req.def, &scaled)));
    }
    let validation = field_validation(req)?;
    let v = modify(shared, req, |old| {
        let mut doc = old.clone();
        patch::apply(&mut doc, ty, &req.body).map_err(|e| match e {
            PatchError::Rejected(_) => ApiError::new(422, "Invalid", e.to_string()),
            _ => ApiError::bad_request(e.to_string()),
        })?;
        if req.sub.is_none() && validation == FieldValidation::Strict {
            fieldcheck::check(req.def, &doc, validation)?;
        }
        let pre = if doc.pointer("/metadata/resourceVersion")
            != old.pointer("/metadata/resourceVersion")
        {
            rv_precondition(&doc)?
        } else {
            None
        };
        Ok((doc, pre))
    })?;
    let warnings = if req.sub.is_none() && validation == FieldValidation::Warn {
        fieldcheck::check(req.def, &v, validation)?
    } else {
        Vec::new()
    };
    Ok(with_warnings(value_response(200, &v), &warnings))
}

fn grace_period(req: &ApiRequest, pod: &Value) -> Result<i64, ApiError> {
    if let Some(g) = req.query.get("gracePeriodSeconds") {
        return g
            .parse()
            .map_err(|_| ApiError::bad_request("invalid gracePeriodSeconds"));
    }
    if !req.body.is_empty()
        && let Ok(opts) = serde_json::from_slice::<Value>(&req.body)
        && let Some(g) = opts.get("gracePeriodSeconds").and_then(Value::as_i64)
    {
        return Ok(g);
    }
    Ok(pod
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30))
}

/// The DeleteOptions `propagationPolicy` (query or body; `orphanDependents` is the old
/// spelling), or the kind's default: Background, except batch/v1 Jobs, which orphan their
/// pods unless told otherwise (with a warning, as the API server gives since 1.27).
fn propagation(req: &ApiRequest, opts: &Value) -> Result<(&'static str, Option<String>), ApiError> {
    let given = req
        .query
        .get("propagationPolicy")
        .or_else(|| opts["propagationPolicy"].as_str())
        .filter(|p| !p.is_empty());
    let orphan_flag = req
        .query
        .get("orphanDependents")
        .map(|v| v == "true")
        .or_else(|| opts["orphanDependents"].as_bool());
    match (given, orphan_flag) {
        (Some("Background"), _) => Ok(("Background", None)),
        (Some("Foreground"), _) => Ok(("Foreground", None)),
        (Some("Orphan"), _) => Ok(("Orphan", None)),
        (Some(other), _) => Err(ApiError::invalid(
            req.def,
            name_of(req),
            &[(
                "propagationPolicy",
                format!("Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
            )],
        )),
        (None, Some(true)) => Ok(("Orphan", None)),
        (None, Some(false)) => Ok(("Background", None)),
        (None, None) if req.def.id == resources::JOBS => Ok((
            "Orphan",
            Some("child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning".into()),
        )),
        (None, None) => Ok(("Background", None)),
    }
}

pub fn delete(shared: &Shared, req: &ApiRequest) -> Result<Response, ApiError> {
    if req.sub.is_some() {
        return Err(ApiError::method_not_allowed());
    }
    // kubectl sends DeleteOptions in the body: `dryRun: ["All"]` may come there.
    let opts: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let dry = req.dry_run()?
        || opts["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "All"));
    let e = fetch(shared, req)?;
    let precondition_uid = opts
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        .map(String::from);
    if precondition_uid
        .as_deref()
        .is_some_and(|u| u != &*e.meta.uid)
    {
        return Err(ApiError::conflict(req.def, name_of(req)));
    }
    if req.def.id == resources::PODS {
        let mut pod = e.value();
        let grace = grace_period(req, &pod)?.max(0);
        if e.meta.deleting && grace > 0 {
            return Ok(value_response(200, &pod));
        }
        if grace > 0 {
            let at = shared.clock.now() + jiff::SignedDuration::from_secs(grace);
            pod["metadata"]["deletionTimestamp"] = json!(fmt_time(at));
            pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            if dry {
                return Ok(value_response(200, &pod));
            }
            shared
                .store
                .write(req.def, &mut pod, WriteMode::Update(Some(e.meta.rv)))?;
            return Ok(value_response(200, &pod));
        }
    }
    let (policy, warning) = propagation(req, &opts)?;
    let warnings: Vec<String> = warning.into_iter().collect();
    let mut obj = e.value();
    let has_finalizers = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    // Orphan and Foreground go through the garbage collector's finalizers; so does any
    // object that already has finalizers: it stays, marked, until they are removed.
    let finalizer = match policy {
        "Orphan" => Some(gc::ORPHAN),
        "Foreground" => Some(gc::FOREGROUND),
        _ => None,
    }
    .filter(|_| gc::OWNERS.contains(&req.def.id));
    if finalizer.is_some() || has_finalizers || e.meta.deleting {
        match finalizer {
            Some(f) => gc::mark_deleting(shared, &mut obj, f),
            None if !e.meta.deleting => {
                obj["metadata"]["deletionTimestamp"] = json!(fmt_time(shared.clock.now()));
                obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            }
            None => {}
        }
        if !dry && obj != e.value() {
            shared
                .store
                .write(req.def, &mut obj, WriteMode::Update(Some(e.meta.rv)))?;
        }
        return Ok(with_warnings(value_response(200, &obj), &warnings));
    }
    if dry {
        return Ok(with_warnings(
            value_response(200, &success_deleted(req.def, name_of(req), &e.meta.uid)),
            &warnings,
        ));
    }
    let gone = shared
        .store
        .delete(req.def, ns_of(req), name_of(req), Some(&e.meta.uid))?;
    if req.def.id == resources::PODS {
        return Ok(json_response(200, gone.json));
    }
    Ok(with_warnings(
        value_response(200, &success_deleted(req.def, name_of(req), &gone.meta.uid)),
        &warnings,
    ))
}
