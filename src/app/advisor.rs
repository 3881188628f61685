//! The rollback advisor in the app: `!` reads the situation of the service in view from
//! the live state, shows the ranked plans, and Enter runs the chosen plan's steps in
//! order, each through its usual confirm dialog and the mutation pipeline; the run
//! stops at the first failure (or cancel) and says where.

use super::state::{ConfirmDialog, Mode, State};
use crate::bus::rollouts::RolloutAction;
use crate::bus::{Command, OpId};
use crate::domain::advisor::{GroupFacts, Plan, Situation, StepAction, advise, tool_time};

/// The plans shown for one service.
#[derive(Debug)]
pub struct AdviceView {
    pub env: usize,
    pub service: String,
    pub plans: Vec<Plan>,
    pub cursor: usize,
    /// How far the chosen plan's details are scrolled (PgDn/PgUp): at 80×24 a plan's
    /// steps and risks do not fit below the list of plans.
    pub scroll: u16,
}

/// A plan being run.
#[derive(Debug, Clone)]
pub struct PlanRun {
    pub env: usize,
    pub service: String,
    pub plan: Plan,
    /// The step whose dialog is open or whose command is in flight.
    pub step: usize,
    pub op: Option<OpId>,
}

#[derive(Debug, Default)]
pub struct AdvisorState {
    pub run: Option<PlanRun>,
}

/// The service the user is looking at: the canary pane's Rollout, the releases matrix
/// row, the selected pod's workload; else the first unhealthy service of the selected
/// environment, else its first.
pub fn service_in_view(state: &State) -> Option<String> {
    use crate::app::Pane;
    let env = state.env()?;
    let by_workload = |w: &str| {
        env.config
            .services
            .iter()
            .find(|s| s.workload == w || s.name == w)
            .map(|s| s.name.clone())
    };
    let from_focus = match state.focus {
        Pane::Rollouts => crate::app::panes::rollouts::shown_service(state),
        Pane::Argocd => crate::app::panes::argocd::services(state)
            .into_iter()
            .nth(state.argocd.row),
        Pane::Pods => state
            .selected_pod()
            .and_then(|p| p.deployment())
            .and_then(by_workload),
        _ => None,
    };
    from_focus.or_else(|| {
        let workloads = crate::app::panes::bluegreen::workloads(state, state.selected_env);
        let sum =
            crate::domain::environment::summarize(&env.config, &workloads, &env.pods, state.now);
        sum.services
            .iter()
            .find(|s| s.health == crate::domain::environment::Health::Degraded)
            .or(sum.services.first())
            .map(|s| s.name.clone())
    })
}

/// The plans for `service` in environment `env`, from the live state.
pub fn plans(state: &State, env: usize, service: &str) -> Vec<Plan> {
    let Some(es) = state.envs.get(env) else {
        return Vec::new();
    };
    let Some(svc) = es.config.services.iter().find(|s| s.name == service) else {
        return Vec::new();
    };
    let re = state.rollouts.envs.get(env);
    let rollout = re
        .and_then(|re| re.rollouts.get(&es.config.namespace, &svc.workload))
        .and_then(|ro| Some((ro, crate::app::panes::rollouts::view_of(state, env, ro)?)));
    let revisions = es
        .deployments
        .get(&es.config.namespace, &svc.workload)
        .filter(|_| rollout.is_none() && svc.blue_green.is_none())
        .zip(re)
        .map(|(d, re)| crate::domain::bluegreen::deployment_revisions(d, re.replicasets.iter()));
    let backup = es.config.backup.as_ref().and_then(|target| {
        let max_age = es.config.policy.backup_max_age?.as_secs();
        let backups = &state.checklist.envs.get(env)?.backups;
        backups.listed().then(|| {
            let newest = crate::domain::cnpg::latest_completed(
                backups.iter(),
                &target.namespace,
                &target.cluster,
            )
            .and_then(|b| b.taken_at());
            (newest, max_age)
        })
    });
    let situation = Situation {
        env: &es.config.name,
        production: es.config.production,
        service,
        now: Some(state.now),
        rollout,
        bluegreen: crate::app::panes::bluegreen::views(state, env)
            .into_iter()
            .find(|v| v.name == service),
        revisions,
        app: state.argocd.env(env).and_then(|e| e.app(&svc.argocd_app)),
        migrations: Some(&es.migrations),
        backup,
        open_gates: Vec::new(),
        consumer_groups: consumer_groups(state, env, svc),
    };
    advise(&situation)
}

/// The service's consumer groups as the Kafka pane last read them.
fn consumer_groups<'a>(
    state: &'a State,
    env: usize,
    svc: &'a crate::config::Service,
) -> Vec<GroupFacts<'a>> {
    let kafka = state.kafka.env(env);
    svc.consumer_groups
        .iter()
        .map(|g| GroupFacts {
            group: &g.group,
            topic: &g.topic,
            read: kafka.and_then(|k| k.groups.iter().find(|v| v.name == g.group)),
            read_at: kafka.and_then(|k| k.read_at),
        })
        .collect()
}

/// `!`: the plans for the service in view.
pub fn open(state: &mut State) {
    let Some(service) = service_in_view(state) else {
        state.flash = Some((state.now, "no service to advise on".into(), false));
        return;
    };
    let env = state.selected_env;
    let plans = plans(state, env, &service);
    if plans.is_empty() {
        let env_name = state.envs[env].config.name.clone();
        state.flash = Some((
            state.now,
            format!("{service} in {env_name}: nothing deployed to roll back to"),
            false,
        ));
        return;
    }
    state.mode = Mode::Advice(Box::new(AdviceView {
        env,
        service,
        plans,
        cursor: 0,
        scroll: 0,
    }));
}

/// Keys while the plans are shown: j/k (or arrows) choose, Enter runs, Esc closes.
pub fn on_key(
    state: &mut State,
    key: crossterm::event::KeyEvent,
) -> (Vec<super::update::Effect>, bool) {
    use crossterm::event::KeyCode;
    let Mode::Advice(view) = &mut state.mode else {
        return (Vec::new(), false);
    };
    let last = view.plans.len().saturating_sub(1);
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => {
            view.cursor = (view.cursor + 1).min(last);
            view.scroll = 0;
        }
        KeyCode::Char('k') | KeyCode::Up => {
            view.cursor = view.cursor.saturating_sub(1);
            view.scroll = 0;
        }
        KeyCode::PageDown => {
            let rows = view
                .plans
                .get(view.cursor)
                .map_or(0, |p| detail_rows(p, state.size.0));
            view.scroll = view.scroll.saturating_add(5).min(rows);
        }
        KeyCode::PageUp => view.scroll = view.scroll.saturating_sub(5),
        KeyCode::Enter => start(state),
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('!') => state.mode = Mode::Normal,
        _ => return (Vec::new(), false),
    }
    (Vec::new(), true)
}

/// About how many rows the chosen plan's details take at terminal width `width`, to
/// bound the scroll (the overlay clamps to the exact count when it draws).
fn detail_rows(plan: &Plan, width: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(6).clamp(20, 108));
    let rows = |text_len: usize| text_len.div_ceil(inner).max(1);
    let mut total = 1;
    for step in &plan.steps {
        total += rows(step.action.describe().chars().count() + 14);
        total += rows(step.why.chars().count() + 7);
        total += step
            .blocker
            .as_ref()
            .map_or(0, |b| rows(b.chars().count() + 16));
    }
    total += plan
        .risks
        .iter()
        .map(|r| rows(r.text.chars().count() + 14))
        .sum::<usize>();
    u16::try_from(total).unwrap_or(u16::MAX)
}

/// Enter on a plan: run it from its first step.
pub fn start(state: &mut State) {
    let Mode::Advice(view) = std::mem::replace(&mut state.mode, Mode::Normal) else {
        return;
    };
    let Some(plan) = view.plans.get(view.cursor).cloned() else {
        return;
    };
    if plan.blocked() {
        let why = plan
            .risks
            .iter()
            .find(|r| r.severity == crate::domain::advisor::Severity::Blocker)
            .map_or(String::new(), |r| r.text.clone());
        state.flash = Some((state.now, format!("not run: {why}"), false));
        state.mode = Mode::Advice(view);
        return;
    }
    state.advisor.run = Some(PlanRun {
        env: view.env,
        service: view.service,
        plan,
        step: 0,
        op: None,
    });
    open_step(state);
}

/// Opens the confirm dialog of the run's current step, or finishes the run.
fn open_step(state: &mut State) {
    let Some(run) = state.advisor.run.clone() else {
        return;
    };
    let Some(step) = run.plan.steps.get(run.step) else {
        state.advisor.run = None;
        state.flash = Some((state.now, format!("plan done: {}", run.plan.title), true));
        return;
    };
    if let StepAction::WaitHealthy { app } = &step.action {
        // Settled by the Argo CD wait the rollback started (see `on_settled`).
        let text = format!(
            "plan step {}/{}: waiting for {app} to be Healthy",
            run.step + 1,
            run.plan.steps.len()
        );
        state.flash = Some((state.now, text, true));
        return;
    }
    match command(state, run.env, &run.service, &step.action) {
        Ok(command) => {
            let Some(es) = state.envs.get(run.env) else {
                return;
            };
            let name = command.target_name().to_owned();
            let dialog = ConfirmDialog::new(command, es.config.production, name).with_warning(
                Some(format!(
                    "plan step {}/{}: {} — {}",
                    run.step + 1,
                    run.plan.steps.len(),
                    step.action.describe(),
                    step.why
                )),
            );
            crate::app::confirm::open(state, dialog);
        }
        Err(why) => stop(state, &why),
    }
}

fn stop(state: &mut State, why: &str) {
    if let Some(run) = state.advisor.run.take() {
        let text = format!(
            "plan stopped at step {}/{} ({}): {why}",
            run.step + 1,
            run.plan.steps.len(),
            run.plan
                .steps
                .get(run.step)
                .map_or(String::new(), |s| s.action.describe())
        );
        state.flash = Some((state.now, text, false));
    }
}

/// The dialog of a step was cancelled: the run stops there.
pub fn on_cancel(state: &mut State) {
    if state.advisor.run.as_ref().is_some_and(|r| r.op.is_none()) {
        stop(state, "cancelled");
    }
}

/// A confirmed command: the run's step is in flight.
pub fn on_sent(state: &mut State, op: OpId) {
    if let Some(run) = &mut state.advisor.run
        && run.op.is_none()
    {
        run.op = Some(op);
    }
}

/// The step's command finished: on to the next step, or stop.
pub fn on_op_finished(state: &mut State, op: OpId, outcome: &Result<String, String>) {
    let Some(run) = &mut state.advisor.run else {
        return;
    };
    if run.op != Some(op) {
        return;
    }
    match outcome {
        Err(why) => stop(state, why),
        Ok(_) => {
            let waits = matches!(
                run.plan.steps.get(run.step + 1).map(|s| &s.action),
                Some(StepAction::WaitHealthy { .. })
            );
            run.step += 1;
            // A wait keeps the rollback's op: its settling ends the wait.
            if !waits {
                run.op = None;
            }
            open_step(state);
        }
    }
}

/// An Argo CD wait settled: the run's wait step is done (or failed).
pub fn on_settled(state: &mut State, op: OpId, outcome: &Result<String, String>) {
    let Some(run) = &mut state.advisor.run else {
        return;
    };
    let waiting = matches!(
        run.plan.steps.get(run.step).map(|s| &s.action),
        Some(StepAction::WaitHealthy { .. })
    );
    if !waiting || run.op != Some(op) {
        return;
    }
    match outcome {
        Err(why) => stop(state, why),
        Ok(_) => {
            run.step += 1;
            run.op = None;
            open_step(state);
        }
    }
}

/// The command a step sends: the same as the single action's.
pub fn command(
    state: &State,
    env: usize,
    service: &str,
    action: &StepAction,
) -> Result<Command, String> {
    let es = state.envs.get(env).ok_or("no such environment")?;
    let env_name = es.config.name.clone();
    match action {
        StepAction::AbortCanary { namespace, rollout } => {
            let ro = state
                .rollouts
                .envs
                .get(env)
                .and_then(|re| re.rollouts.get(namespace, rollout))
                .ok_or_else(|| format!("rollout/{rollout} is gone"))?;
            let act = RolloutAction::Abort;
            if let Some(why) = act.refusal(ro) {
                return Err(why);
            }
            Ok(Command::Rollout {
                env: env_name,
                namespace: namespace.clone(),
                name: rollout.clone(),
                requests: act.requests(ro),
                action: act,
            })
        }
        StepAction::SwitchBlueGreen { to } => {
            let view = crate::app::panes::bluegreen::views(state, env)
                .into_iter()
                .find(|v| v.name == service)
                .ok_or_else(|| format!("{service} has no blue/green pair"))?;
            if let Some(why) = view.side(*to).not_ready_reason() {
                return Err(format!("{to} cannot take the traffic: {why}"));
            }
            Ok(Command::SwitchBlueGreen {
                env: env_name,
                namespace: view.namespace.clone(),
                service: view.service.clone(),
                to_colour: *to,
                selector_key: view.selector_key.clone(),
                target_deployment: view.side(*to).deployment.clone(),
                override_reason: None,
            })
        }
        StepAction::DisableAutoSync { app } => Ok(Command::ArgocdDisableAutoSync {
            env: env_name,
            app: app.clone(),
            then_rollback: None,
        }),
        StepAction::ArgocdRollback { app, id, revision } => Ok(Command::ArgocdRollback {
            env: env_name,
            app: app.clone(),
            id: *id,
            revision: Some(revision.clone()),
        }),
        StepAction::UndoDeployment {
            deployment,
            to_revision,
        } => {
            let d = es
                .deployments
                .get(&es.config.namespace, deployment)
                .ok_or_else(|| format!("deployment/{deployment} is gone"))?;
            let re = state
                .rollouts
                .envs
                .get(env)
                .ok_or("no ReplicaSets read yet")?;
            let revs = crate::domain::bluegreen::deployment_revisions(d, re.replicasets.iter());
            let entry = revs
                .revisions
                .iter()
                .find(|r| r.revision == *to_revision)
                .ok_or_else(|| format!("revision {to_revision} is gone"))?;
            let rs = re
                .replicasets
                .get(&es.config.namespace, &entry.replica_set)
                .ok_or_else(|| format!("replicaset/{} is gone", entry.replica_set))?;
            let (to_revision, template, annotations) =
                crate::bus::bluegreen::plan_undo(d, rs).map_err(|e| e.to_string())?;
            Ok(Command::UndoDeployment {
                env: env_name,
                namespace: es.config.namespace.clone(),
                name: deployment.clone(),
                to_revision,
                template,
                annotations,
            })
        }
        StepAction::ResetConsumerGroup { group, topic, to } => {
            reset_command(state, env, group, topic, *to, true)
        }
        StepAction::WaitHealthy { .. } => Err("a wait sends nothing".into()),
    }
}

/// What a step sends, for the plan's text: as `command`, except that a reset whose
/// group is active still shows what it will send once its consumers are stopped.
pub fn preview(
    state: &State,
    env: usize,
    service: &str,
    action: &StepAction,
) -> Option<crate::bus::Preview> {
    let command = match action {
        StepAction::ResetConsumerGroup { group, topic, to } => {
            reset_command(state, env, group, topic, *to, false)
        }
        other => command(state, env, service, other),
    };
    command.ok().map(|c| c.preview())
}

/// The Kafka pane's offset reset to a datetime, refused as the pane refuses it while
/// the group's last read shows active members (Kafka would refuse it too).
fn reset_command(
    state: &State,
    env: usize,
    group: &str,
    topic: &str,
    to: jiff::Timestamp,
    refuse_active: bool,
) -> Result<Command, String> {
    let es = state.envs.get(env).ok_or("no such environment")?;
    let kafka = es.config.kafka.as_ref().ok_or_else(|| {
        format!(
            "{} has no Kafka (kafka: in environments.yaml)",
            es.config.name
        )
    })?;
    let read = state
        .kafka
        .env(env)
        .and_then(|k| k.groups.iter().find(|g| g.name == group));
    if let Some(st) = read.and_then(|g| g.state.as_ref())
        && refuse_active
        && !st.state.resettable()
    {
        return Err(crate::bus::kafka::active_refusal(
            group, &st.state, st.members,
        ));
    }
    // Checked as the prompt checks what is typed: the tool's format, not in the future.
    let time = crate::domain::kafka::datetime::parse(&tool_time(to), state.now)?;
    Ok(Command::KafkaResetOffsets {
        env: es.config.name.clone(),
        broker: crate::bus::kafka::Broker::of(kafka),
        group: group.to_owned(),
        topic: topic.to_owned(),
        spec: crate::domain::kafka::ResetSpec::ToDatetime(time.tool),
    })
}
