//! A model's lifetime cost as the CLI prints it.

use super::{Align, Table};
use crate::human::{self, *};
use crate::*;

fn sci(v: f64) -> String {
    format!("{v:.2e}").replace("e", "e+").replace("e+-", "e-")
}

fn tokens(v: f64) -> String {
    if v >= 1e15 {
        format!("{} tokens", sci(v))
    } else {
        format!("{} tokens", human::count(v))
    }
}

/// The phases, the balance point, how it moves, the optimum and the what-ifs.
pub fn render(r: &LifecycleReport) -> String {
    let i = &r.inputs;
    let l = &r.lifecycle;
    let mut s = String::new();
    s.push_str(&format!(
        "model        {} parameters ({} active), trained on {} = {} per parameter = {}x Chinchilla\n",
        human::count(i.params),
        human::count(i.active_params),
        tokens(i.train_tokens),
        human::num(l.tokens_per_param),
        human::num(l.chinchilla_multiple)
    ));
    s.push_str(&format!(
        "serving      {} over its life\n",
        tokens(i.inference_tokens)
    ));
    s.push_str(&format!(
        "cost basis   {} ({}): {} per busy GPU-hour, {} bf16 dense peak\n\n",
        r.hardware,
        r.mode,
        money(i.usd_per_gpu_hour),
        human::flop_per_s(i.peak_flop_per_s)
    ));
    let mut t = Table::new(&[
        ("phase", Align::Left),
        ("FLOP", Align::Right),
        ("MFU", Align::Right),
        ("GPU-hours", Align::Right),
        ("cost", Align::Right),
        ("share", Align::Right),
    ]);
    for (name, p, mfu) in [
        ("pre-training 6·N·D", &l.pretrain, i.train_mfu),
        ("RL", &l.rl, i.rl_mfu),
        ("inference 2·N·I", &l.inference, i.inference_mfu),
    ] {
        t.row(vec![
            name.into(),
            sci(p.flop),
            human::percent(mfu),
            human::count(p.gpu_hours),
            money(p.usd),
            human::percent(p.usd / l.total_usd),
        ]);
    }
    t.row(vec![
        "total".into(),
        sci(l.pretrain.flop + l.rl.flop + l.inference.flop),
        String::new(),
        human::count(l.pretrain.gpu_hours + l.rl.gpu_hours + l.inference.gpu_hours),
        money(l.total_usd),
        String::new(),
    ]);
    s.push_str(&t.render(0));
    let rl = if (r.rl_over_pretrain - 1.0).abs() < 1e-9 {
        "RL costs what pre-training costs (--rl-fraction 1), so there all three phases are equal"
            .to_string()
    } else {
        format!(
            "RL costs {}x pre-training, so the three are equal only with RL as large as \
             pre-training (--rl-fraction 1 at equal MFU)",
            human::num(r.rl_over_pretrain)
        )
    };
    s.push_str(&format!(
        "\nbalance      pre-training costs what inference costs at D = {} = {}x Chinchilla\n\
         \x20            (6·N·D/mfu_train = 2·N·I/mfu_inference, so D = I·mfu_train/(3·mfu_inference));\n\
         \x20            {rl}\n",
        tokens(l.equal_train_tokens),
        human::num(l.equal_multiple),
    ));
    s.push_str("how it moves lifetime tokens served -> balancing multiple: ");
    let moves: Vec<String> = r
        .sensitivity
        .iter()
        .map(|x| {
            format!(
                "{} -> {}x",
                sci(x.inference_tokens),
                human::num(x.equal_multiple)
            )
        })
        .collect();
    s.push_str(&moves.join(", "));
    s.push_str(
        "\n             (it scales with I/N and with mfu_train/mfu_inference; try --inference-mfu 0.1)\n",
    );
    match &r.optimum {
        Some(o) => s.push_str(&format!(
            "optimum      at the same loss ({:.3} nats/token under Hoffmann et al. 2022's fit), the cheapest\n\
             \x20            lifetime is N = {}, D = {} ({}x Chinchilla): {} ({} of this model's)\n",
            o.loss,
            human::count(o.params),
            tokens(o.train_tokens),
            human::num(o.chinchilla_multiple),
            money(o.lifecycle.total_usd),
            human::percent(o.lifecycle.total_usd / l.total_usd)
        )),
        None => s.push_str("optimum      none: the loss model cannot reach this model's loss\n"),
    }
    for w in &r.what_ifs {
        s.push_str(&format!(
            "what if      {}: inference {} ({}x cheaper), lifetime {} ({}x cheaper), balance at {}x\n",
            w.description,
            money(w.lifecycle.inference.usd),
            human::num(w.inference_saving),
            money(w.lifecycle.total_usd),
            human::num(w.total_saving),
            human::num(w.lifecycle.equal_multiple)
        ));
    }
    s.push_str("formulas, the loss model and sources: docs/economics.md\n");
    s
}
