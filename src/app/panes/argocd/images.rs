//! The images each history entry ran. Learned from the watch as revisions run (an app's
//! summary once settled, an operation's sync result), and, for entries rollcall never saw
//! running, fetched from Argo CD when a history view opens: the app's manifests at that
//! revision (`GET …/manifests?revision=R`), through the bus, cached per (app, revision).

use std::collections::HashMap;

use crate::app::panes::argocd::ReleaseEnv;
use crate::app::state::State;
use crate::app::update::Effect;
use crate::domain::AppRow;
pub use crate::domain::application::ManifestFetch;

/// A fetch that has not brought images (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    Pending,
    Failed(String),
}

/// What the history view shows in an entry's IMAGES column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryImages<'a> {
    Known(&'a [String]),
    Fetching,
    Failed(&'a str),
    Unknown,
}

/// Fetched or learned images, and fetches in flight or failed, per (app, revision).
#[derive(Debug, Default)]
pub struct ImageCache {
    pub seen: HashMap<(String, String), Vec<String>>,
    pub fetches: HashMap<(String, String), Fetch>,
}

/// Remembers which images a revision ran, from the summary of a settled app and from
/// an operation's sync result.
pub fn learn_images(cache: &mut ImageCache, app: &AppRow) {
    if let Some(op) = &app.operation_state
        && let (Some(rev), false) = (&op.result_revision, op.result_images.is_empty())
    {
        cache
            .seen
            .insert((app.name.clone(), rev.clone()), op.result_images.clone());
    }
    if !app.images.is_empty()
        && !app.operation_in_flight()
        && let Some(rev) = app.deployed_revision()
    {
        cache
            .seen
            .insert((app.name.clone(), rev.to_owned()), app.images.clone());
    }
}

/// Images a history entry ran, when known.
pub fn images_of<'a>(re: &'a ReleaseEnv, app: &'a AppRow, revision: &str) -> Option<&'a [String]> {
    if app.deployed_revision() == Some(revision) && !app.images.is_empty() {
        return Some(&app.images);
    }
    re.images
        .seen
        .get(&(app.name.clone(), revision.to_owned()))
        .map(Vec::as_slice)
}

/// An entry's images, or where fetching them stands.
pub fn history_images<'a>(
    re: &'a ReleaseEnv,
    app: &'a AppRow,
    revision: &str,
) -> HistoryImages<'a> {
    if let Some(images) = images_of(re, app, revision) {
        return HistoryImages::Known(images);
    }
    match re
        .images
        .fetches
        .get(&(app.name.clone(), revision.to_owned()))
    {
        Some(Fetch::Pending) => HistoryImages::Fetching,
        Some(Fetch::Failed(e)) => HistoryImages::Failed(e),
        None => HistoryImages::Unknown,
    }
}

/// When a history view opens: one manifests fetch per entry whose images are unknown
/// (a failed one is tried again), none for those already in flight.
pub fn fetch_missing(state: &mut State) -> Vec<Effect> {
    let Some(h) = &state.argocd.history else {
        return Vec::new();
    };
    let (env, name) = (h.env, h.app.clone());
    let Some(env_name) = state.envs.get(env).map(|e| e.config.name.clone()) else {
        return Vec::new();
    };
    let Some(re) = state.argocd.envs.get_mut(env) else {
        return Vec::new();
    };
    let Some(app) = re.apps.iter().find(|a| a.name == name).cloned() else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    for entry in app.history.iter().rev() {
        let revision = entry.revision.clone();
        if revision.is_empty()
            || images_of(re, &app, &revision).is_some()
            || re.images.fetches.get(&(name.clone(), revision.clone())) == Some(&Fetch::Pending)
        {
            continue;
        }
        re.images
            .fetches
            .insert((name.clone(), revision.clone()), Fetch::Pending);
        effects.push(Effect::FetchManifests(ManifestFetch {
            env,
            env_name: env_name.clone(),
            app: name.clone(),
            revision,
        }));
    }
    effects
}

/// The answer to a manifests fetch.
pub fn on_manifests(state: &mut State, fetch: ManifestFetch, result: Result<Vec<String>, String>) {
    let Some(re) = state.argocd.envs.get_mut(fetch.env) else {
        return;
    };
    let key = (fetch.app, fetch.revision);
    match result {
        Ok(images) => {
            re.images.fetches.remove(&key);
            re.images.seen.insert(key, images);
        }
        Err(e) => {
            re.images.fetches.insert(key, Fetch::Failed(e));
        }
    }
}
