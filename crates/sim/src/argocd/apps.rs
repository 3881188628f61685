//! The Application read and update endpoints: list (selector, projects, name, repo
//! filters, `fields`), get (with `refresh`), Update (`PUT` the app), UpdateSpec (`PUT
//! …/spec`, what `argocd app set` sends) and Patch (`{"patch","patchType"}`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::argocd::api::{
    ApiResult, ArgoServer, GrpcError, INVALID_ARGUMENT, Req, UNKNOWN, json_response,
};
use crate::argocd::session::Claims;
use crate::argocd::state::NAMESPACE;
use crate::resources::{APPLICATIONS, def};
use crate::store::selector::LabelSelector;

/// `projects` and `project` (both repeatable) as the server merges them.
pub fn projects(req: &Req) -> Vec<String> {
    let mut p = req.all("projects");
    p.extend(req.all("project"));
    p
}

pub fn list(srv: &ArgoServer, _who: &Claims, req: &Req) -> ApiResult {
    let selector = LabelSelector::parse(req.query.get("selector").unwrap_or(""))
        .map_err(|e| GrpcError::new(UNKNOWN, format!("error parsing the selector: {e}")))?;
    let projects = projects(req);
    let (rv, entries) = srv
        .shared
        .store
        .list(def(APPLICATIONS), Some(NAMESPACE), |m| selector.matches(m));
    let items: Vec<Value> = entries
        .into_iter()
        .map(|e| e.value())
        .filter(|a| permitted(a, req, &projects))
        .collect();
    let out = json!({"metadata": {"resourceVersion": rv.to_string()}, "items": items});
    Ok(json_response(200, &fields(out, req)))
}

/// The name, project and repo filters of list and watch.
pub fn permitted(app: &Value, req: &Req, projects: &[String]) -> bool {
    let p = app["spec"]["project"].as_str().unwrap_or("");
    let name_ok = req
        .query
        .get("name")
        .is_none_or(|n| n.is_empty() || app["metadata"]["name"] == n);
    let repo_ok = req
        .query
        .get("repo")
        .is_none_or(|r| r.is_empty() || app["spec"]["source"]["repoURL"] == r);
    name_ok && repo_ok && (projects.is_empty() || projects.iter().any(|x| x == p))
}

pub async fn get(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let project = projects(req);
    if project.len() > 1 {
        return Err(GrpcError::new(
            INVALID_ARGUMENT,
            "multiple projects specified - the get endpoint accepts either zero or one project",
        ));
    }
    let mut app = srv.get_app(who, "get", name, project.first().map(String::as_str))?;
    if let Some(kind) = req.query.get("refresh").filter(|r| !r.is_empty()) {
        let kind = if kind == "hard" { "hard" } else { "normal" };
        let mut new = app.clone();
        new["metadata"]["annotations"][crate::argocd::controller::REFRESH] = json!(kind);
        app = srv.write_app(&app, new)?;
        // The controller reconciles and removes the annotation; wait for that version.
        for _ in 0..250 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(e) = srv.shared.store.get(def(APPLICATIONS), NAMESPACE, name) {
                let v = e.value();
                if v["metadata"]["annotations"][crate::argocd::controller::REFRESH].is_null() {
                    app = v;
                    break;
                }
            }
        }
    }
    Ok(json_response(200, &fields(app, req)))
}

fn validate_spec(name: &str, spec: &Value) -> Result<(), GrpcError> {
    let bad = |why: &str| {
        Err(GrpcError::new(
            INVALID_ARGUMENT,
            format!(
                "error validating and normalizing app: application spec for {name} is invalid: InvalidSpecError: {why}"
            ),
        ))
    };
    if !spec.is_object() {
        return bad("spec is nil");
    }
    if spec["source"]["repoURL"].as_str().is_none_or(str::is_empty) && !spec["sources"].is_array() {
        return bad(
            "spec.source.repoURL and spec.source.path either spec.source.chart are required",
        );
    }
    if spec["destination"]["namespace"].is_null()
        && spec["destination"]["server"].is_null()
        && spec["destination"]["name"].is_null()
    {
        return bad("Destination server missing from app spec");
    }
    match spec["project"].as_str().unwrap_or("default") {
        "dictamesh" | "default" | "" => Ok(()),
        p => Err(GrpcError::new(
            INVALID_ARGUMENT,
            format!(
                "error validating and normalizing app: application references project {p} which does not exist"
            ),
        )),
    }
}

/// `updateApp`: spec, labels, annotations and finalizers from `from`; status untouched.
fn update_from(
    srv: &ArgoServer,
    who: &Claims,
    stored: &Value,
    from: &Value,
    name: &str,
) -> Result<Value, GrpcError> {
    srv.enforce(who, "update", stored)?;
    validate_spec(name, &from["spec"])?;
    let mut new = stored.clone();
    new["spec"] = from["spec"].clone();
    for k in ["labels", "annotations", "finalizers"] {
        new["metadata"][k] = from["metadata"].get(k).cloned().unwrap_or(Value::Null);
        if new["metadata"][k].is_null()
            && let Some(m) = new["metadata"].as_object_mut()
        {
            m.remove(k);
        }
    }
    let app = srv.write_app(stored, new)?;
    srv.event(
        &app,
        "ResourceUpdated",
        format!("{} updated application spec", who.sub),
    );
    Ok(app)
}

pub fn update(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let body = req.json()?;
    let project = req.query.get("project").filter(|p| !p.is_empty());
    srv.enforce(who, "update", &body)?;
    let stored = srv.get_app(who, "update", name, project)?;
    let app = update_from(srv, who, &stored, &body, name)?;
    Ok(json_response(200, &app))
}

pub fn update_spec(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let spec = req.json()?;
    let project = req.query.get("project").filter(|p| !p.is_empty());
    let stored = srv.get_app(who, "update", name, project)?;
    let mut from = stored.clone();
    from["spec"] = spec;
    let app = update_from(srv, who, &stored, &from, name)?;
    Ok(json_response(200, &app["spec"]))
}

/// `PATCH`: body `{"name","patch": "<JSON text>","patchType": "json"|"merge"}`.
pub fn patch(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let body = req.json()?;
    let project = body["project"].as_str().filter(|p| !p.is_empty());
    let stored = srv.get_app(who, "get", name, project)?;
    srv.enforce(who, "update", &stored)?;
    let text = body["patch"].as_str().unwrap_or("");
    let mut doc = stored.clone();
    let ty = match body["patchType"].as_str().unwrap_or("") {
        "json" | "" => crate::store::patch::PatchType::Json,
        "merge" => crate::store::patch::PatchType::Merge,
        other => {
            return Err(GrpcError::new(
                INVALID_ARGUMENT,
                format!("Patch type '{other}' is not supported"),
            ));
        }
    };
    crate::store::patch::apply(&mut doc, ty, text.as_bytes()).map_err(|e| {
        let what = if ty == crate::store::patch::PatchType::Merge {
            "error calculating merge patch"
        } else {
            "error decoding json patch"
        };
        GrpcError::new(UNKNOWN, format!("{what}: {e}"))
    })?;
    let app = update_from(srv, who, &stored, &doc, name)?;
    Ok(json_response(200, &app))
}

/// The `fields` query parameter (`a.b,c` keeps, `-a.b` drops), as argoproj/pkg's marshaler.
pub fn fields(mut v: Value, req: &Req) -> Value {
    let Some(q) = req.query.get("fields").filter(|f| !f.is_empty()) else {
        return v;
    };
    let (exclude, q) = match q.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, q),
    };
    let wanted: Vec<&str> = q.split(',').collect();
    prune(&mut v, &mut Vec::new(), &wanted, exclude);
    v
}

fn prune(item: &mut Value, path: &mut Vec<String>, wanted: &[&str], exclude: bool) {
    match item {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                path.push(k.clone());
                let p = path.join(".");
                let in_path = wanted.contains(&p.as_str());
                let parent_in = in_path || wanted.iter().any(|w| w.starts_with(&p));
                let keep = (exclude && !in_path) || (!exclude && parent_in);
                if !keep {
                    m.remove(&k);
                } else if !in_path && let Some(child) = m.get_mut(&k) {
                    prune(child, path, wanted, exclude);
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                prune(x, path, wanted, exclude);
            }
        }
        _ => {}
    }
}
