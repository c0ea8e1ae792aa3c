//! One loan of a synthetic borrower: terms, schedule maths, script cursors, and the mirror of
//! the engine's days-past-due alert (`mirror.rs`, used to address `alert_ack`s).

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};

use postloan_engine::schedule::Terms;

use super::ctx::{add_days, add_months, clamp_key, key, Ctx};
use super::event::{NewTerms, CARS};
use super::mirror::engine_terms;
use super::profile::{draw_deferrals, Class, DeferPlan};
use postloan_engine::event::CloseReason;

/// One synthetic loan as the generator plans it — not the engine's `state::Loan`.
#[derive(Debug, Clone)]
pub(crate) struct LoanPlan {
    /// 1-based sequence within the borrower (`L<borrower>-<seq>`).
    pub seq: u8,
    /// Local date and time (seconds after midnight) of `loan_opened`.
    pub open_date: NaiveDate,
    pub open_secs: u32,
    /// Principal, rate, term, installment and schedule in force.
    pub terms: LoanTerms,
    /// The car: value, identity, use.
    pub vehicle: Vehicle,
    /// Branch, dealer, manager.
    pub desk: Desk,
    /// How the loan's story goes: default, early exit, holidays, restructure.
    pub script: LoanScript,
    /// What has been planned so far and what comes next.
    pub cursor: Cursor,
}

/// The terms in force for planning: the opening terms until a restructure replaces them
/// (`loan_opened` is always written before a restructure is planned).
#[derive(Debug, Clone)]
pub(crate) struct LoanTerms {
    /// Principal, cents.
    pub principal: i64,
    /// Annual rate in units of 0.0001.
    pub rate_bp: u32,
    /// Term in months.
    pub term: u32,
    /// Installment, cents.
    pub inst: i64,
    /// The schedule as planned now (the engine's type: deferral offsets, month-end clamping);
    /// `first_due_date` is the opening one until a restructure.
    pub schedule: Terms,
}

/// The collateral: the car, its value at origination, how it is driven, an accident.
#[derive(Debug, Clone)]
pub(crate) struct Vehicle {
    /// Value at origination, cents.
    pub collateral: i64,
    /// Vehicle identification number (ASCII).
    pub vin: [u8; 17],
    /// Index into [`CARS`].
    pub car: u8,
    /// Model year.
    pub year: i32,
    /// Kilometres driven a day.
    pub km_per_day: f64,
    /// Odometer at origination.
    pub odo0: f64,
    /// Accident: appraisal date and permanent value factor.
    pub accident: Option<(NaiveDate, f64)>,
}

/// Where the loan was sold: branch, dealer and account manager numbers.
#[derive(Debug, Clone)]
pub(crate) struct Desk {
    /// Branch number (1–20).
    pub branch: u8,
    /// Dealer number (3 per branch).
    pub dealer: u8,
    /// Account manager number (2 per branch).
    pub manager: u8,
}

/// How the loan's story goes, decided at construction (a restructure when it is planned).
#[derive(Debug, Clone)]
pub(crate) struct LoanScript {
    /// First installment the borrower never pays (default class).
    pub stop: Option<u32>,
    /// Prepay everything right after installment `.0` and close for reason `.1`.
    pub early_exit: Option<(u32, CloseReason)>,
    /// Payment holidays still to plan, the next first (by installment).
    pub defer: [Option<DeferPlan>; 2],
    /// The terms of the loan's restructure, once planned (at most one per loan).
    pub restructure: Option<NewTerms>,
}

/// Planning cursors (keys are UTC lower bounds; `i64::MAX` = exhausted) and what has been
/// planned so far.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    /// Planning key of the opening.
    pub open_key: i64,
    /// Next installment to plan, and the last one the script plans.
    pub next_k: u32,
    pub last_k: u32,
    /// Planning key of installment `next_k`.
    pub inst_key: i64,
    /// Revaluations planned so far, the next one's date and key.
    pub val_j: u32,
    /// Date of the next revaluation.
    pub val_date: NaiveDate,
    /// Planning key of the next revaluation.
    pub val_key: i64,
    /// Planning key of the accident's appraisal.
    pub acc_key: i64,
    /// Money planned to arrive (received − reversed), cents.
    pub planned_paid: i64,
    /// Latest date of any planned repayment event.
    pub last_pay_date: NaiveDate,
    /// Repayment attempts numbered so far (`P-<loan>-<k>`).
    pub pay_no: u32,
    /// A closure is planned: no more installments.
    pub ended: bool,
    /// Date of the planned closure, if any.
    pub close_date: Option<NaiveDate>,
}

impl LoanPlan {
    /// Due date of installment `k` (1-based) in the schedule as planned now.
    pub(crate) fn due(&self, k: u32) -> NaiveDate {
        self.terms.schedule.due_date(k)
    }

    /// Planning key of installment `k`'s trigger: 3 days before its due date, 15 when a payment
    /// holiday is to be requested ahead of it.
    pub(crate) fn inst_key_for(&self, ctx: &Ctx, k: u32) -> i64 {
        let lead = match self.script.defer[0] {
            Some(d) if d.k == k && !d.retro => 15,
            _ => 3,
        };
        clamp_key(ctx, key(add_days(self.due(k), -lead)))
    }

    /// Outstanding principal after `n` installments (engine method: monthly interest on the
    /// balance rounded to 0.01 half away from zero), never below 0.
    pub(crate) fn outstanding_after(&self, n: u32) -> i64 {
        let r = f64::from(self.terms.rate_bp) / 120_000.0;
        let mut bal = self.terms.principal;
        for _ in 0..n.min(self.terms.term) {
            let interest = (bal as f64 * r).round() as i64;
            bal = (bal + interest - self.terms.inst).max(0);
        }
        bal
    }

    /// Market value of the vehicle on `date` (cents, before noise): ~20 % depreciation in the
    /// first year, ~10 %/year after, times the accident factor once appraised.
    pub(crate) fn market_value(&self, date: NaiveDate) -> f64 {
        let age =
            (super::ctx::days(date) - super::ctx::days(self.open_date)).max(0) as f64 / 365.25;
        // Piecewise linear (basic IEEE operations only, so output is portable).
        let dep = if age <= 1.0 {
            1.0 - 0.2 * age
        } else {
            let y = age - 1.0;
            let n = y.floor();
            0.8 * 0.9f64.powi(n as i32) * (1.0 - 0.1 * (y - n))
        };
        let acc = match self.vehicle.accident {
            Some((d, f)) if date >= d => f,
            _ => 1.0,
        };
        self.vehicle.collateral as f64 * dep * acc
    }

    /// Moves a loan's valuation cursor to its next quarterly revaluation (±7 days).
    pub(crate) fn advance_valuation(&mut self, rng: &mut ChaCha8Rng, ctx: &Ctx) {
        self.cursor.val_j += 1;
        let jitter = rng.gen_range(-7..=7);
        self.cursor.val_date = add_days(add_months(self.open_date, 3 * self.cursor.val_j), jitter);
        self.cursor.val_key = match self.cursor.close_date {
            Some(c) if self.cursor.val_date >= c => i64::MAX,
            _ => clamp_key(ctx, key(self.cursor.val_date)),
        };
    }

    /// Odometer reading on `date`.
    pub(crate) fn mileage(&self, date: NaiveDate) -> u32 {
        let age = (super::ctx::days(date) - super::ctx::days(self.open_date)).max(0) as f64;
        (self.vehicle.odo0 + self.vehicle.km_per_day * age)
            .round()
            .clamp(0.0, 4e9) as u32
    }
}

/// Rounds cents to whole yuan.
pub(crate) fn whole_yuan(cents: f64) -> i64 {
    ((cents / 100.0).round() as i64) * 100
}

/// Annuity installment for `principal` cents at `rate_bp`/10000 a year over `term` months,
/// rounded to 0.01 half away from zero (in cents). Exact decimal arithmetic; falls back to f64
/// only if the decimal computation were to overflow (it cannot for generator inputs).
pub(crate) fn annuity(principal: i64, rate_bp: u32, term: u32) -> i64 {
    let exact = || -> Option<i64> {
        let p = Decimal::new(principal, 2);
        let n = Decimal::from(term);
        if rate_bp == 0 {
            return (p.checked_div(n)?)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
                .checked_mul(Decimal::ONE_HUNDRED)?
                .to_i64();
        }
        let r = Decimal::new(i64::from(rate_bp), 4).checked_div(Decimal::from(12))?;
        let f = (Decimal::ONE + r).checked_powu(u64::from(term))?;
        let a = p
            .checked_mul(r)?
            .checked_mul(f)?
            .checked_div(f - Decimal::ONE)?;
        a.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            .checked_mul(Decimal::ONE_HUNDRED)?
            .to_i64()
    };
    exact().unwrap_or_else(|| {
        let r = f64::from(rate_bp) / 120_000.0;
        let p = principal as f64;
        let a = if r == 0.0 {
            p / f64::from(term.max(1))
        } else {
            p * r / (1.0 - (1.0 + r).powi(-(term as i32)))
        };
        a.round() as i64
    })
}

/// Vehicle identification numbers use these characters (no I, O, Q).
const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";

impl LoanTerms {
    /// Term 12/24/36/48/60 months, rate 0.0300–0.1200, principal 50k–400k CNY (skewed
    /// towards smaller loans, whole hundreds of yuan), first due date a month after opening,
    /// installment the annuity.
    fn draw(rng: &mut ChaCha8Rng, open_date: NaiveDate) -> LoanTerms {
        let term = match rng.gen_range(0..100) {
            0..=9 => 12,
            10..=29 => 24,
            30..=64 => 36,
            65..=79 => 48,
            _ => 60,
        };
        let rate_bp = rng.gen_range(300..=1200);
        let u: f64 = rng.gen();
        let yuan = 50_000.0 + 350_000.0 * u * u.sqrt();
        let principal = ((yuan / 100.0).round() as i64 * 10_000).clamp(5_000_000, 40_000_000);
        let first_due = add_months(open_date, 1);
        let inst = annuity(principal, rate_bp, term);
        LoanTerms {
            principal,
            rate_bp,
            term,
            inst,
            schedule: engine_terms(principal, rate_bp, term, first_due, inst),
        }
    }
}

impl Vehicle {
    /// The car at origination: value 1.05–1.40 × `principal` (5 %: 0.85–1.00 ×), VIN, model,
    /// year (70 % new). Its use (accident, mileage) is drawn later, by [`Vehicle::draw_use`];
    /// returns whether the car is new.
    fn draw_car(rng: &mut ChaCha8Rng, open_date: NaiveDate, principal: i64) -> (Vehicle, bool) {
        let ratio = if rng.gen_bool(0.05) {
            rng.gen_range(0.85..1.0)
        } else {
            rng.gen_range(1.05..1.4)
        };
        let collateral = (principal as f64 * ratio / 10_000.0).round() as i64 * 10_000;
        let mut vin = [b'L'; 17];
        for c in vin.iter_mut().skip(1) {
            *c = VIN_CHARS[rng.gen_range(0..VIN_CHARS.len())];
        }
        let car = rng.gen_range(0..CARS.len()) as u8;
        let new_car = rng.gen_bool(0.7);
        let year = open_date.year() - if new_car { 0 } else { rng.gen_range(1..=5) };
        let vehicle = Vehicle {
            collateral,
            vin,
            car,
            year,
            km_per_day: 0.0,
            odo0: 0.0,
            accident: None,
        };
        (vehicle, new_car)
    }

    /// How the car is used: an accident (1 %, 60–540 days after opening, value × 0.5–0.7),
    /// 8,000–30,000 km a year, the odometer at origination.
    fn draw_use(&mut self, rng: &mut ChaCha8Rng, open_date: NaiveDate, new_car: bool) {
        self.accident = rng.gen_bool(0.01).then(|| {
            (
                add_days(open_date, rng.gen_range(60..=540)),
                rng.gen_range(0.5..0.7),
            )
        });
        self.km_per_day = rng.gen_range(8_000.0..30_000.0) / 365.0;
        self.odo0 = if new_car {
            rng.gen_range(5.0..60.0)
        } else {
            rng.gen_range(10_000.0..90_000.0)
        };
    }
}

impl Desk {
    /// One of 20 branches, one of its 2 managers and 3 dealers.
    fn draw(rng: &mut ChaCha8Rng) -> Desk {
        let branch: u8 = rng.gen_range(1..=20);
        let manager = (branch - 1) * 2 + rng.gen_range(1..=2);
        let dealer = (branch - 1) * 3 + rng.gen_range(1..=3);
        Desk {
            branch,
            dealer,
            manager,
        }
    }
}

impl LoanScript {
    /// Loan `seq` of a borrower of `class` with a `term`-month schedule: the default class
    /// stops paying at installment 2–10 of its first loan; the others may get payment holidays
    /// and an early exit (3 % prepay, 1.5 % refinance, after installment 4–15).
    fn draw(rng: &mut ChaCha8Rng, class: Class, seq: u8, term: u32) -> LoanScript {
        let stop =
            (class == Class::Default && seq == 1).then(|| rng.gen_range(2..=10u32).min(term));
        let defer = if class == Class::Default {
            [None, None]
        } else {
            draw_deferrals(rng, term)
        };
        let early_exit = if class == Class::Default {
            None
        } else {
            let r: f64 = rng.gen();
            let e = rng.gen_range(4..=15u32);
            let reason = if r < 0.03 {
                Some(CloseReason::PaidOff)
            } else if r < 0.045 {
                Some(CloseReason::Refinanced)
            } else {
                None
            };
            reason.filter(|_| e < term).map(|r| (e, r))
        };
        LoanScript {
            stop,
            early_exit,
            defer,
            restructure: None,
        }
    }
}

impl Cursor {
    /// Nothing planned yet: the opening and the first installment to come, the accident's
    /// appraisal if any; valuations start when the loan is revalued at all.
    fn start(ctx: &Ctx, open_date: NaiveDate, last_k: u32, accident: Option<NaiveDate>) -> Cursor {
        Cursor {
            open_key: clamp_key(ctx, key(open_date)),
            next_k: 1,
            last_k,
            inst_key: 0,
            val_j: 0,
            val_date: open_date,
            val_key: i64::MAX,
            acc_key: accident.map_or(i64::MAX, |d| clamp_key(ctx, key(d))),
            planned_paid: 0,
            last_pay_date: open_date,
            pay_no: 0,
            ended: false,
            close_date: None,
        }
    }
}

/// Draws loan `seq` of a borrower of `class`, opened on `open_date`: every draw in a fixed
/// order from the borrower's RNG.
pub(crate) fn make_loan(
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    seq: u8,
    open_date: NaiveDate,
    class: Class,
) -> LoanPlan {
    let open_secs = rng.gen_range(9 * 3600..17 * 3600);
    let terms = LoanTerms::draw(rng, open_date);
    let (mut vehicle, new_car) = Vehicle::draw_car(rng, open_date, terms.principal);
    let desk = Desk::draw(rng);
    let script = LoanScript::draw(rng, class, seq, terms.term);
    let revalue = rng.gen_bool(0.88);
    vehicle.draw_use(rng, open_date, new_car);
    let last_k = script.stop.map_or(terms.term, |s| (s + 1).min(terms.term));
    let accident = vehicle.accident.map(|(d, _)| d);
    let mut loan = LoanPlan {
        seq,
        open_date,
        open_secs,
        terms,
        vehicle,
        desk,
        script,
        cursor: Cursor::start(ctx, open_date, last_k, accident),
    };
    loan.cursor.inst_key = loan.inst_key_for(ctx, 1);
    if revalue {
        loan.advance_valuation(rng, ctx);
    }
    loan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annuity_known_values() {
        // 100,000.00 at 6 % over 12 months: 8,606.64 per month.
        assert_eq!(annuity(10_000_000, 600, 12), 860_664);
        // 200,000.00 at 5.88 % over 36 months.
        let f = {
            let r = 0.0588f64 / 12.0;
            200_000.0 * r / (1.0 - (1.0 + r).powi(-36))
        };
        assert!((annuity(20_000_000, 588, 36) as f64 / 100.0 - f).abs() <= 0.006);
        assert_eq!(annuity(1_200_000, 0, 12), 100_000);
    }
}
