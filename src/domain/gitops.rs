//! The GitOps repository as the runbook sees it: what the watcher read of the remote (its
//! branch tip, its tags, the overlays' `kustomization.yaml` at the tip), and the edit
//! `kustomize edit set image` makes, done on the text so that only the `images:` entry
//! changes and every other byte of the file stays as it was.

use jiff::Timestamp;
use serde::Deserialize;

/// One read of a checkout's remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitState {
    pub read_at: Timestamp,
    /// `origin`, and the branch Argo CD follows.
    pub remote: String,
    pub branch: String,
    /// The branch's newest commit on the remote.
    pub tip: Option<Commit>,
    /// Tags on the remote, each with the commit it points to.
    pub tags: Vec<(String, String)>,
    /// Overlay file (relative to the checkout) → its text at the tip, or why not.
    pub files: Vec<(String, Result<String, String>)>,
    /// Why the remote could not be read; the rest is from the last read that worked.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub subject: String,
}

impl GitState {
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(t, _)| t == name)
            .map(|(_, sha)| sha.as_str())
    }

    pub fn file(&self, path: &str) -> Option<&Result<String, String>> {
        self.files.iter().find(|(p, _)| p == path).map(|(_, t)| t)
    }
}

/// Why an environment's checks cannot read git.
pub fn not_configured(env: &str) -> String {
    format!("{env} has no gitops: checkout in environments.yaml")
}

/// The first 7 hex digits, as git abbreviates.
pub fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// An entry of a kustomization's `images:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageEntry {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub new_tag: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Deserialize)]
struct Images {
    #[serde(default)]
    images: Vec<ImageEntry>,
}

/// Why a kustomization cannot be read or edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error(
        "its images: list is not laid out as kustomize writes it (one `- name:` block per \
         image); edit it by hand"
    )]
    Layout,
}

/// The `images:` entry for `name`, if any.
pub fn image_entry(text: &str, name: &str) -> Result<Option<ImageEntry>, EditError> {
    let parsed: Images =
        serde_saphyr::from_str(text).map_err(|e| EditError::Yaml(e.to_string()))?;
    Ok(parsed.images.into_iter().find(|e| e.name == name))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A `key: value` line's value span (after `key: `), without a trailing comment.
fn value_span(line: &str, key: &str) -> Option<(usize, usize)> {
    let body = line.trim_start_matches(' ');
    let body = body.strip_prefix("- ").unwrap_or(body);
    let rest = body.strip_prefix(key)?.strip_prefix(':')?;
    let start = line.len() - rest.len();
    let value = rest.trim_start();
    let start = start + (rest.len() - value.len());
    let end = value.find(" #").map_or(line.len(), |i| start + i);
    Some((start, start + value[..end - start].trim_end().len()))
}

/// `value` written as `old` was: quoted the same way.
fn styled(old: &str, value: &str) -> String {
    match old.chars().next() {
        Some(q @ ('"' | '\'')) => format!("{q}{value}{q}"),
        _ => value.to_owned(),
    }
}

/// Sets image `name` to `new_name` (kept when None) and `new_tag`, as
/// `kustomize edit set image NAME=NEW_NAME:NEW_TAG` does; only the lines of that entry
/// change (an entry or the `images:` list is added at the end when missing). None when
/// the file already says so. The result is parsed again and compared with the original:
/// anything but that entry differing is refused.
pub fn set_image(
    text: &str,
    name: &str,
    new_name: Option<&str>,
    new_tag: &str,
) -> Result<Option<String>, EditError> {
    let before = image_entry(text, name)?;
    if let Some(e) = &before
        && e.new_tag.as_deref() == Some(new_tag)
        && e.digest.is_none()
        && new_name.is_none_or(|n| e.new_name.as_deref() == Some(n))
    {
        return Ok(None);
    }
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let images_at = lines.iter().position(|l| l.trim_end() == "images:");
    let entry_lines = |lines: &mut Vec<String>, at: usize, item_indent: usize| {
        let pad = " ".repeat(item_indent);
        let mut block = vec![format!("{pad}- name: {name}")];
        if let Some(n) = new_name {
            block.push(format!("{pad}  newName: {n}"));
        }
        block.push(format!("{pad}  newTag: {new_tag}"));
        lines.splice(at..at, block);
    };
    if images_at.is_none() && lines.iter().any(|l| l.starts_with("images:")) {
        return Err(EditError::Layout);
    }
    match images_at {
        None => {
            lines.push("images:".to_owned());
            let at = lines.len();
            entry_lines(&mut lines, at, 0);
        }
        Some(head) => {
            // The list: item lines (`- `) at one indent, their keys two deeper.
            let mut end = head + 1;
            let mut item_indent = None;
            while end < lines.len() {
                let l = &lines[end];
                let t = l.trim_start();
                if t.is_empty() || t.starts_with('#') {
                    end += 1;
                    continue;
                }
                let i = indent(l);
                match item_indent {
                    None if t.starts_with("- ") => item_indent = Some(i),
                    None => break,
                    Some(ii) if (i == ii && t.starts_with("- ")) || i > ii => {}
                    Some(_) => break,
                }
                end += 1;
            }
            while end > head + 1 && lines[end - 1].trim().is_empty() {
                end -= 1;
            }
            let ii = item_indent.unwrap_or(0);
            // Items as line ranges.
            let starts: Vec<usize> = (head + 1..end)
                .filter(|&k| indent(&lines[k]) == ii && lines[k].trim_start().starts_with("- "))
                .collect();
            let found = starts.iter().enumerate().find_map(|(n, &s)| {
                let stop = starts.get(n + 1).copied().unwrap_or(end);
                let k = (s..stop).find(|&k| value_span(&lines[k], "name").is_some())?;
                let (a, b) = value_span(&lines[k], "name")?;
                (lines[k][a..b].trim_matches(['"', '\'']) == name).then_some((s, stop))
            });
            match found {
                None => entry_lines(&mut lines, end, ii),
                Some((s, stop)) => {
                    let set = |lines: &mut Vec<String>, key: &str, value: &str| match (s..stop)
                        .find(|&k| value_span(&lines[k], key).is_some())
                    {
                        Some(k) => {
                            if let Some((a, b)) = value_span(&lines[k], key) {
                                let v = styled(&lines[k][a..b], value);
                                lines[k].replace_range(a..b, &v);
                            }
                        }
                        None => {
                            lines.insert(stop, format!("{}  {key}: {value}", " ".repeat(ii)));
                        }
                    };
                    // newTag first: a newName added at the item's end must not move it.
                    set(&mut lines, "newTag", new_tag);
                    if let Some(n) = new_name {
                        set(&mut lines, "newName", n);
                    }
                }
            }
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') || images_at.is_none() {
        out.push('\n');
    }
    verify(text, &out, name, new_name, new_tag)?;
    Ok(Some(out))
}

/// The edit did what it says and nothing else.
fn verify(
    before: &str,
    after: &str,
    name: &str,
    new_name: Option<&str>,
    new_tag: &str,
) -> Result<(), EditError> {
    let parse = |t: &str| -> Result<serde_json::Value, EditError> {
        serde_saphyr::from_str(t).map_err(|e| EditError::Yaml(e.to_string()))
    };
    let (mut old, new) = (parse(before)?, parse(after)?);
    let Some(obj) = old.as_object_mut() else {
        return Err(EditError::Layout);
    };
    let list = obj
        .entry("images")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    let Some(items) = list.as_array_mut() else {
        return Err(EditError::Layout);
    };
    match items.iter_mut().find(|i| i["name"] == name) {
        Some(item) => {
            if let Some(n) = new_name {
                item["newName"] = n.into();
            }
            item["newTag"] = new_tag.into();
        }
        None => {
            let mut item = serde_json::json!({"name": name, "newTag": new_tag});
            if let Some(n) = new_name {
                item["newName"] = n.into();
            }
            items.push(item);
        }
    }
    if old == new {
        Ok(())
    } else {
        Err(EditError::Layout)
    }
}

/// The changed lines of an edit, with one line of context, as `git diff` shows them.
pub fn diff(before: &str, after: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let first = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[first..]
        .iter()
        .rev()
        .zip(b[first..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut out = Vec::new();
    if first > 0 {
        out.push(format!(" {}", a[first - 1]));
    }
    out.extend(a[first..a.len() - tail].iter().map(|l| format!("-{l}")));
    out.extend(b[first..b.len() - tail].iter().map(|l| format!("+{l}")));
    if tail > 0 {
        out.push(format!(" {}", a[a.len() - tail]));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: dictamesh-prod   # the env's namespace
resources:
- deployment.yaml
images:
- name: customer-adapter
  newName: ghcr.io/controle-digital/customer-adapter
  newTag: v1.1.4 # pinned by the release bot
- name: sidecar
  newTag: \"2.0\"
labels:
- pairs:
    app.kubernetes.io/part-of: dictamesh
";

    #[test]
    fn only_the_tag_changes_byte_for_byte() {
        let out = set_image(KUSTOMIZATION, "customer-adapter", None, "v1.2.0")
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            KUSTOMIZATION.replace("newTag: v1.1.4 #", "newTag: v1.2.0 #")
        );
        assert_eq!(
            diff(KUSTOMIZATION, &out),
            "   newName: ghcr.io/controle-digital/customer-adapter\n-  newTag: v1.1.4 # pinned by the release bot\n+  newTag: v1.2.0 # pinned by the release bot\n - name: sidecar"
        );
        // Already there: nothing to do.
        assert_eq!(
            set_image(&out, "customer-adapter", None, "v1.2.0"),
            Ok(None)
        );
        // Quoting is kept.
        let q = set_image(KUSTOMIZATION, "sidecar", None, "2.1")
            .unwrap()
            .unwrap();
        assert_eq!(q, KUSTOMIZATION.replace("\"2.0\"", "\"2.1\""));
    }

    #[test]
    fn missing_keys_entries_and_lists_are_added() {
        let out = set_image(KUSTOMIZATION, "sidecar", Some("ghcr.io/x/sidecar"), "2.1")
            .unwrap()
            .unwrap();
        assert!(
            out.contains(
                "- name: sidecar\n  newTag: \"2.1\"\n  newName: ghcr.io/x/sidecar\nlabels:"
            ),
            "{out}"
        );
        let added = set_image(KUSTOMIZATION, "gateway", Some("ghcr.io/x/gateway"), "v2")
            .unwrap()
            .unwrap();
        assert!(added.contains("  newTag: \"2.0\"\n- name: gateway\n  newName: ghcr.io/x/gateway\n  newTag: v2\nlabels:"), "{added}");
        let bare = "resources:\n- a.yaml\n";
        let out = set_image(bare, "a", None, "v1").unwrap().unwrap();
        assert_eq!(
            out,
            "resources:\n- a.yaml\nimages:\n- name: a\n  newTag: v1\n"
        );
        assert_eq!(
            image_entry(&out, "a").unwrap().and_then(|e| e.new_tag),
            Some("v1".into())
        );
    }

    #[test]
    fn layouts_it_cannot_edit_safely_are_refused() {
        let flow = "images: [{name: a, newTag: v1}]\n";
        assert_eq!(set_image(flow, "a", None, "v2"), Err(EditError::Layout));
        assert!(matches!(
            set_image("images: [", "a", None, "v2"),
            Err(EditError::Yaml(_))
        ));
        let indented = "images:\n  - name: a\n    newTag: v1\n";
        assert_eq!(
            set_image(indented, "a", None, "v2").unwrap().unwrap(),
            "images:\n  - name: a\n    newTag: v2\n"
        );
    }
}
