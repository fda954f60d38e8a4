//! Questions and requests answered at any point of a call: recalls, a person, and the way
//! out when Otto keeps failing to understand.

use super::{Lines, RuleDialogue, Stage};
use crate::context::CallerContext;
use crate::nlu::{self, VehicleMention};
use crate::tools::NoArgs;

impl RuleDialogue {
    /// A recall question: for the vehicle it names, the one being talked about, or the
    /// caller's own (each of them for "either of my cars"); asks which when that is unclear.
    pub(super) async fn recalls(&mut self, ctx: &mut CallerContext, text: &str) -> Lines {
        let said = nlu::vehicle(text);
        let own = ctx.vehicles().await.unwrap_or_default();
        let mention = |v: &otto_core::records::Vehicle| VehicleMention {
            year: Some(v.year),
            make: Some(v.make.clone()),
            model: Some(v.model.clone()),
        };
        let t = nlu::tokens(text);
        let every = [
            "either", "both", "all", "each", "any of", "cars", "vehicles", "trucks",
        ]
        .iter()
        .any(|p| nlu::has_phrase(&t, p));
        let wanted: Vec<VehicleMention> = if said.is_complete() {
            vec![said]
        } else if let Some(i) = nlu::own_vehicle(text, &own) {
            vec![mention(&own[i])]
        } else if let Some(v) = ctx.vehicle() {
            vec![mention(v)]
        } else if own.len() == 1 || (every && !own.is_empty()) {
            own.iter().map(mention).collect()
        } else {
            Vec::new()
        };
        if wanted.is_empty() {
            self.stage = Stage::AskRecallVehicle;
            return vec![
                "I can look up open safety recalls.".into(),
                self.question(ctx),
            ];
        }
        let mut lines = Vec::new();
        for v in &wanted {
            lines.extend(self.recall_lines(ctx, v).await);
        }
        lines.push("Is there anything else I can help with?".into());
        lines
    }

    /// What the recall records say for one complete vehicle (nothing when it is incomplete).
    pub(super) async fn recall_lines(
        &mut self,
        ctx: &mut CallerContext,
        v: &VehicleMention,
    ) -> Lines {
        let (Some(year), Some(make), Some(model)) = (v.year, v.make.clone(), v.model.clone())
        else {
            return Vec::new();
        };
        let name = format!("{year} {make} {model}");
        let r = ctx
            .recalls(crate::tools::RecallsArgs { year, make, model })
            .await;
        match r {
            Ok(v) => match v["count"].as_u64().unwrap_or(0) {
                0 => vec![format!("I don't see any recalls listed for the {name}.")],
                n => {
                    let first = v["recalls"][0]["component"].as_str().unwrap_or("a component").to_lowercase();
                    vec![
                        format!("There {} {n} recall{} listed for the {name} that may apply, including one for the {first}.", if n == 1 { "is" } else { "are" }, if n == 1 { "" } else { "s" }),
                        "Not every vehicle is affected, so please confirm with your VIN; we can check it when you come in.".into(),
                    ]
                }
            },
            Err(_) => vec!["I'm sorry, I can't check recalls right now. You can look them up by VIN at nhtsa.gov.".into()],
        }
    }

    pub(super) async fn person(&mut self, ctx: &mut CallerContext) -> Lines {
        match ctx.transfer_to_person(NoArgs {}).await {
            Ok(_) => {
                self.stage = Stage::Ended;
                vec!["Sure, let me transfer you to someone at the shop. One moment.".into()]
            }
            Err(_) => {
                self.stage = Stage::AskMessage;
                vec![
                    "We're closed right now, so no one can take the call, but I can take a message and someone will call you back.".into(),
                    self.question(ctx),
                ]
            }
        }
    }

    /// After repeated misunderstandings: offers to take a message (a transfer happens only
    /// when the caller asks for a person).
    pub(super) async fn way_out(&mut self, _ctx: &mut CallerContext) -> Lines {
        self.stage = Stage::AskMessage;
        self.booking = false;
        vec![
            "I'm sorry, I'm having trouble understanding.".to_string(),
            "Tell me briefly what you need and I'll pass it on to the staff, who will call you back.".to_string(),
        ]
    }
}
