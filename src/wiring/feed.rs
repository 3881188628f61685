//! What the clients and the bus send, as the app's events: the one place their item
//! types meet `app::Event`, so no layer below the app knows it.

use crate::app::Event;
use crate::bus::Report;
use crate::clients::checklist::ChecklistItem;
use crate::clients::migrations::MigrationItem;
use crate::clients::rollouts::RolloutItem;
use crate::clients::watch::EnvBatch;

impl From<EnvBatch> for Event {
    fn from(batch: EnvBatch) -> Self {
        let EnvBatch { env, updates } = batch;
        match <[_; 1]>::try_from(updates) {
            Ok([update]) => Event::Watch { env, update },
            Err(updates) => Event::WatchBatch { env, updates },
        }
    }
}

impl From<crate::clients::link::LinkItem> for Event {
    fn from(crate::clients::link::LinkItem { env, probe }: crate::clients::link::LinkItem) -> Self {
        Event::Link { env, probe }
    }
}

impl From<RolloutItem> for Event {
    fn from(RolloutItem { env, update }: RolloutItem) -> Self {
        Event::Rollouts { env, update }
    }
}

impl From<MigrationItem> for Event {
    fn from(MigrationItem { env, update }: MigrationItem) -> Self {
        Event::Migrations { env, update }
    }
}

impl From<ChecklistItem> for Event {
    fn from(ChecklistItem { env, update }: ChecklistItem) -> Self {
        Event::Checklist { env, update }
    }
}

impl From<crate::clients::git::GitItem> for Event {
    fn from(crate::clients::git::GitItem { env, state }: crate::clients::git::GitItem) -> Self {
        Event::Git { env, state }
    }
}

impl From<crate::clients::metrics::MetricItem> for Event {
    fn from(
        crate::clients::metrics::MetricItem { env, query, read }: crate::clients::metrics::MetricItem,
    ) -> Self {
        Event::Metric { env, query, read }
    }
}

impl From<crate::domain::feed::ProbeUpdate> for Event {
    fn from(crate::domain::feed::ProbeUpdate(probe): crate::domain::feed::ProbeUpdate) -> Self {
        Event::Probe(probe)
    }
}

impl From<crate::clients::logs::LogItem> for Event {
    fn from(
        crate::clients::logs::LogItem { session, update }: crate::clients::logs::LogItem,
    ) -> Self {
        Event::Log { session, update }
    }
}

impl From<crate::clients::kafka::KafkaItem> for Event {
    fn from(
        crate::clients::kafka::KafkaItem { env, update }: crate::clients::kafka::KafkaItem,
    ) -> Self {
        Event::Kafka { env, update }
    }
}

impl From<Report> for Event {
    fn from(report: Report) -> Self {
        match report {
            Report::Finished { op, outcome } => Event::OpFinished { op, outcome },
            Report::Manifests { fetch, result } => Event::Manifests { fetch, result },
            Report::DryRun { command, result } => Event::DryRun { command, result },
        }
    }
}
