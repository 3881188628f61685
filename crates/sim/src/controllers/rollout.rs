//! The rolling-update arithmetic of the Deployment controller, as pure functions
//! (`resolveFenceposts`, `NewRSNewReplicas`, `reconcileOldReplicaSets`), tested on the
//! reference's worked example.

use serde_json::Value;

/// Resolves an int-or-percent against `total`, rounding up or down.
pub fn scaled_value(v: Option<&Value>, total: i64, round_up: bool, default_pct: i64) -> i64 {
    let pct = |p: i64| {
        let x = p * total;
        if round_up {
            (x + 99).div_euclid(100)
        } else {
            x.div_euclid(100)
        }
    };
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<i64>().ok())
        {
            Some(p) => pct(p),
            None => s.parse().unwrap_or(0),
        },
        _ => pct(default_pct),
    }
}

/// (maxSurge, maxUnavailable) for `desired` replicas: surge rounds up, unavailable down, and
/// if both are 0 unavailable becomes 1.
pub fn fenceposts(rolling_update: Option<&Value>, desired: i64) -> (i64, i64) {
    let surge = scaled_value(
        rolling_update.and_then(|r| r.get("maxSurge")),
        desired,
        true,
        25,
    );
    let mut unavailable = scaled_value(
        rolling_update.and_then(|r| r.get("maxUnavailable")),
        desired,
        false,
        25,
    );
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// One ReplicaSet as the arithmetic sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rs {
    pub spec: i64,
    pub available: i64,
}

/// What one sync of a rolling update does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Scale the new RS to this many replicas.
    ScaleNew(i64),
    /// Scale old RSs (index into the oldest-first list) to these counts.
    ScaleOld(Vec<(usize, i64)>),
    None,
}

/// The first step of a rolling-update sync that changes something. `olds` oldest first.
pub fn rolling_step(desired: i64, surge: i64, unavailable: i64, new: Rs, olds: &[Rs]) -> Step {
    // reconcileNewReplicaSet
    if new.spec > desired {
        return Step::ScaleNew(desired);
    }
    if new.spec < desired {
        let total: i64 = olds.iter().map(|r| r.spec).sum::<i64>() + new.spec;
        let max_total = desired + surge;
        if total < max_total {
            let up = (max_total - total).min(desired - new.spec);
            if up > 0 {
                return Step::ScaleNew(new.spec + up);
            }
        }
    }
    // reconcileOldReplicaSets
    let all: i64 = olds.iter().map(|r| r.spec).sum::<i64>() + new.spec;
    let min_available = desired - unavailable;
    let new_unavailable = new.spec - new.available;
    let max_scaled_down = all - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Step::None;
    }
    let mut specs: Vec<i64> = olds.iter().map(|r| r.spec).collect();
    // cleanupUnhealthyReplicas: old pods that are not available go first.
    let mut cleaned = 0;
    for (i, r) in olds.iter().enumerate() {
        if cleaned >= max_scaled_down {
            break;
        }
        if r.spec == 0 || r.spec <= r.available {
            continue;
        }
        let n = (max_scaled_down - cleaned).min(r.spec - r.available);
        specs[i] -= n;
        cleaned += n;
    }
    // scaleDownOldReplicaSetsForRollingUpdate
    let available: i64 = olds
        .iter()
        .zip(&specs)
        .map(|(r, s)| r.available.min(*s))
        .sum::<i64>()
        + new.available;
    if available > min_available {
        let total_down = available - min_available;
        let mut done = 0;
        for s in specs.iter_mut() {
            if done >= total_down {
                break;
            }
            if *s == 0 {
                continue;
            }
            let n = (*s).min(total_down - done);
            *s -= n;
            done += n;
        }
    }
    let changes: Vec<(usize, i64)> = specs
        .iter()
        .enumerate()
        .filter(|(i, s)| **s != olds[*i].spec)
        .map(|(i, s)| (i, *s))
        .collect();
    if changes.is_empty() {
        Step::None
    } else {
        Step::ScaleOld(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percentages_round_like_the_controller() {
        assert_eq!(
            fenceposts(
                Some(&json!({"maxSurge": "25%", "maxUnavailable": "25%"})),
                4
            ),
            (1, 1)
        );
        assert_eq!(
            fenceposts(
                Some(&json!({"maxSurge": "25%", "maxUnavailable": "25%"})),
                3
            ),
            (1, 0)
        );
        assert_eq!(
            fenceposts(Some(&json!({"maxSurge": 1, "maxUnavailable": 0})), 3),
            (1, 0)
        );
        assert_eq!(
            fenceposts(Some(&json!({"maxSurge": 0, "maxUnavailable": 0})), 3),
            (0, 1)
        );
        assert_eq!(fenceposts(None, 10), (3, 2));
        assert_eq!(
            fenceposts(Some(&json!({"maxSurge": "0%", "maxUnavailable": "10%"})), 5),
            (0, 1)
        );
    }

    /// The reference's worked example: replicas 4, surge 1, unavailable 1, new pods become
    /// available between syncs.
    #[test]
    fn worked_example_replicas_4() {
        let (surge, unav) = fenceposts(
            Some(&json!({"maxSurge": "25%", "maxUnavailable": "25%"})),
            4,
        );
        let mut old = Rs {
            spec: 4,
            available: 4,
        };
        let mut new = Rs {
            spec: 0,
            available: 0,
        };
        let mut table = vec![(old.spec, new.spec)];
        for _ in 0..6 {
            match rolling_step(4, surge, unav, new, &[old]) {
                Step::ScaleNew(n) => new.spec = n,
                Step::ScaleOld(ch) => {
                    old.spec = ch[0].1;
                    old.available = old.available.min(old.spec);
                }
                Step::None => break,
            }
            new.available = new.spec;
            table.push((old.spec, new.spec));
        }
        assert_eq!(table, vec![(4, 0), (4, 1), (2, 1), (2, 3), (0, 3), (0, 4)]);
    }

    #[test]
    fn zero_unavailable_rolls_one_at_a_time() {
        let (surge, unav) = fenceposts(Some(&json!({"maxSurge": 1, "maxUnavailable": 0})), 3);
        let mut old = Rs {
            spec: 3,
            available: 3,
        };
        let mut new = Rs {
            spec: 0,
            available: 0,
        };
        assert_eq!(rolling_step(3, surge, unav, new, &[old]), Step::ScaleNew(1));
        new.spec = 1;
        // New pod not yet available: nothing may go down.
        assert_eq!(rolling_step(3, surge, unav, new, &[old]), Step::None);
        new.available = 1;
        assert_eq!(
            rolling_step(3, surge, unav, new, &[old]),
            Step::ScaleOld(vec![(0, 2)])
        );
        old = Rs {
            spec: 2,
            available: 2,
        };
        assert_eq!(rolling_step(3, surge, unav, new, &[old]), Step::ScaleNew(2));
    }

    #[test]
    fn unhealthy_old_pods_go_first() {
        let olds = [
            Rs {
                spec: 2,
                available: 0,
            },
            Rs {
                spec: 3,
                available: 3,
            },
        ];
        let step = rolling_step(
            4,
            1,
            1,
            Rs {
                spec: 0,
                available: 0,
            },
            &olds,
        );
        assert_eq!(step, Step::ScaleOld(vec![(0, 0)]));
    }
}
