//! Path routing and query parsing tests.
use super::*;

fn api(p: &str) -> (String, Option<String>, Option<String>, Option<String>) {
    match route(p) {
        Ok(Route::Api(d, ns, n, s)) => (d.plural.to_string(), ns, n, s),
        Ok(Route::Discovery(_)) => ("discovery".into(), None, None, None),
        Ok(Route::Review(_)) => ("review".into(), None, None, None),
        Ok(Route::OpenApiV2) => ("openapi".into(), None, None, None),
        Ok(Route::Proxy(d, ns, n, p)) => {
            (format!("proxy {}", d.plural), Some(ns), Some(n), Some(p))
        }
        Err(e) => (format!("err {}", e.code), None, None, None),
    }
}

#[test]
fn paths() {
    let s = |x: &str| Some(x.to_string());
    assert_eq!(api("/api/v1/pods"), ("pods".into(), None, None, None));
    assert_eq!(
        api("/api/v1/namespaces/a/pods/p/status"),
        ("pods".into(), s("a"), s("p"), s("status"))
    );
    assert_eq!(
        api("/api/v1/namespaces/a"),
        ("namespaces".into(), None, s("a"), None)
    );
    assert_eq!(
        api("/api/v1/namespaces/a/status"),
        ("namespaces".into(), None, s("a"), s("status"))
    );
    assert_eq!(
        api("/apis/apps/v1/namespaces/x/deployments/d/scale").3,
        s("scale")
    );
    assert_eq!(api("/apis/apps/v1").0, "discovery");
    assert_eq!(api("/apis/apps/v1/namespaces/x/pods").0, "err 404");
    assert_eq!(api("/api/v1/pods/x").0, "err 404");
    assert_eq!(api("/api/v1/namespaces/a/pods/p/bogus").0, "err 404");
    assert_eq!(api("/nope").0, "err 404");
    assert_eq!(api("/openapi/v2").0, "openapi");
    assert_eq!(api("/openapi/v3/apis/apps/v1").0, "discovery");
    assert_eq!(api("/openapi/v3/apis/nope/v1").0, "err 404");
    assert_eq!(
        api("/api/v1/namespaces/a/pods/p:8080/proxy/health/ready"),
        ("proxy pods".into(), s("a"), s("p:8080"), s("/health/ready"))
    );
    assert_eq!(
        api("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").0,
        "review"
    );
    let q = Query::parse(Some("&watch=true&&labelSelector=a%3Db,c"));
    assert!(q.flag("watch"));
    assert_eq!(q.get("labelSelector"), Some("a=b,c"));
}
