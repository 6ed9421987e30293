//! The router kinds: the meta-routers and every baseline, named by the rows and targets their
//! psi regression sees (the table in the `train` module's header).

use serde::{Deserialize, Serialize};

use crate::causal::Method;
use crate::error::{Error, Result};

/// A router: which labels and which debiasing train `psi_hat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RouterKind {
    /// Gold rows only.
    GoldOnly,
    /// Preference rows only.
    PrefOnly,
    /// Gold and preference rows, unchanged (gold scaled by `c`).
    Pooled,
    /// Preference labels shifted by the global mean difference, then pooled.
    MeanShift,
    /// The meta-router with the R-learner's `Delta_hat`.
    MetaR,
    /// The meta-router with the DR-learner's `Delta_hat`.
    MetaDr,
    /// Gold labels on every training row (an upper reference; studies only).
    AllGold,
}

impl RouterKind {
    /// Every router, in reporting order.
    pub const ALL: [RouterKind; 7] = [
        RouterKind::GoldOnly,
        RouterKind::PrefOnly,
        RouterKind::Pooled,
        RouterKind::MeanShift,
        RouterKind::MetaR,
        RouterKind::MetaDr,
        RouterKind::AllGold,
    ];

    /// The name used in every output.
    pub fn name(self) -> &'static str {
        match self {
            RouterKind::GoldOnly => "gold_only",
            RouterKind::PrefOnly => "pref_only",
            RouterKind::Pooled => "pooled",
            RouterKind::MeanShift => "mean_shift",
            RouterKind::MetaR => "meta_r",
            RouterKind::MetaDr => "meta_dr",
            RouterKind::AllGold => "all_gold",
        }
    }

    /// Parses a router name.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        RouterKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = RouterKind::ALL.iter().map(|k| k.name()).collect();
            Error::param(
                "router",
                "router",
                format!("unknown router `{s}`; known: {} (and `random`, an evaluation baseline)", names.join(", ")),
            )
        })
    }

    /// True for the meta-routers.
    pub fn is_meta(self) -> bool {
        matches!(self, RouterKind::MetaR | RouterKind::MetaDr)
    }

    /// The meta-learner of a meta-router (`None` for the baselines).
    pub fn method(self) -> Option<Method> {
        match self {
            RouterKind::MetaR => Some(Method::R),
            RouterKind::MetaDr => Some(Method::Dr),
            _ => None,
        }
    }
}
