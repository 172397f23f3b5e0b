package loyaltytest

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// A server's state can be saved and a server started from it again (Save, NewServerFromState),
// so that a sandbox keeps its accounts, cards and history across restarts. The snapshot is
// JSON, with the records that point at each other written as ids.

const snapshotVersion = 1

type snapshot struct {
	Version      int               `json:"version"`
	AgencyKey    string            `json:"agencyKey"`
	AppToken     string            `json:"appToken"`
	Seq          int               `json:"seq"`
	Tenants      []tenantSnap      `json:"tenants"` // the agency first
	Transactions []transactionSnap `json:"transactions"`
	// Removed are cards that were deleted (with their customer, or their company) while the
	// history or a marketplace transaction still names them: kept so those load again.
	Removed []removedCardSnap `json:"removed,omitempty"`
}

// removedCardSnap is a deleted card, whole enough for the rows that name it: its template and
// customer as they were, since either may be gone too.
type removedCardSnap struct {
	Card     cardSnap     `json:"card"`
	Template templateSnap `json:"template"`
	Customer customer     `json:"customer"`
}

type tenantSnap struct {
	Company       company            `json:"company"`
	Customers     []customer         `json:"customers"`
	Templates     []templateSnap     `json:"templates"`
	Cards         []cardSnap         `json:"cards"`
	Operations    []operationSnap    `json:"operations"`
	Pushes        []push             `json:"pushes"`
	SMS           []string           `json:"sms"`
	Profile       map[string]any     `json:"profile"`
	AgencyProfile map[string]any     `json:"agencyProfile,omitempty"`
	Webhooks      []subscriptionSnap `json:"webhooks"`
}

type templateSnap struct {
	Template
	CompanyID int              `json:"companyId"`
	CreatedAt time.Time        `json:"createdAt"`
	Rewards   []rewardTierSnap `json:"rewards"`
	TierType  map[int]int      `json:"tierType"`
}

type rewardTierSnap struct {
	RewardTier
	UsageLimit *int     `json:"usageLimit"`
	ValueLimit *float64 `json:"valueLimit"`
}

type cardSnap struct {
	ID             string           `json:"id"`
	TemplateID     int              `json:"templateId"`
	CustomerID     string           `json:"customerId"`
	Status         string           `json:"status"`
	Stamps         int              `json:"stamps"`
	Rewards        int              `json:"rewards"`
	Balance        float64          `json:"balance"`
	Uses           int              `json:"uses"`
	Visits         int              `json:"visits"`
	CouponRedeemed bool             `json:"couponRedeemed"`
	TierID         int              `json:"tierId"`
	Period         string           `json:"period"`
	Earned         int              `json:"earned"`
	Redeemed       int              `json:"redeemed"`
	ExpiresAt      *time.Time       `json:"expiresAt"`
	LastStamp      *time.Time       `json:"lastStamp"`
	LastEarned     *time.Time       `json:"lastEarned"`
	LastRedeemed   *time.Time       `json:"lastRedeemed"`
	CustomFields   []map[string]any `json:"customFields"`
	CreatedAt      time.Time        `json:"createdAt"`
	UpdatedAt      time.Time        `json:"updatedAt"`
}

type operationSnap struct {
	operation
	CardID    string    `json:"cardId"`
	VisibleAt time.Time `json:"visibleAt"`
}

type subscriptionSnap struct {
	Seq    int      `json:"seq"`
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

type transactionSnap struct {
	ID       string         `json:"id"`
	Reversed bool           `json:"reversed"`
	Results  []txResultSnap `json:"results"`
}

type txResultSnap struct {
	CardID   string     `json:"cardId"`
	Accrued  float64    `json:"accrued"`
	Stamps   int        `json:"stamps"`
	Check    int        `json:"check"`
	At       time.Time  `json:"at"`
	Reversed *time.Time `json:"reversed"`
	OK       bool       `json:"ok"`
	Message  string     `json:"message"`
}

// Save returns the server's state as JSON, its keys included: NewServerFromState starts a
// server from it. Keep the file as you would keep the keys.
func (s *Server) Save() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	snap := snapshot{Version: snapshotVersion, AgencyKey: s.APIKey, AppToken: s.AppToken, Seq: st.seq}
	live := map[*card]bool{}
	for _, t := range st.allTenants() {
		for _, c := range t.cards.list() {
			live[c] = true
		}
	}
	removed := map[*card]bool{}
	keep := func(c *card) {
		if !live[c] && !removed[c] {
			removed[c] = true
			snap.Removed = append(snap.Removed, removedCardSnap{Card: snapCard(c), Template: snapTemplate(c.tmpl), Customer: *c.cust})
		}
	}
	for _, t := range st.allTenants() {
		ts := tenantSnap{Company: *t.company, SMS: t.sms, Profile: t.profile, AgencyProfile: t.agencyProfile}
		for _, c := range t.customers.list() {
			ts.Customers = append(ts.Customers, *c)
		}
		for _, tm := range t.templates.list() {
			ts.Templates = append(ts.Templates, snapTemplate(tm))
		}
		for _, c := range t.cards.list() {
			ts.Cards = append(ts.Cards, snapCard(c))
		}
		for _, op := range t.ops {
			keep(op.card)
			ts.Operations = append(ts.Operations, operationSnap{operation: *op, CardID: op.card.ID, VisibleAt: op.visibleAt})
		}
		for _, p := range t.pushes.list() {
			ts.Pushes = append(ts.Pushes, *p)
		}
		for _, sub := range sortedSubscriptions(t.webhooks) {
			ss := subscriptionSnap{Seq: sub.seq, ID: sub.id, URL: sub.url}
			for e := range sub.events {
				ss.Events = append(ss.Events, e)
			}
			sort.Strings(ss.Events)
			ts.Webhooks = append(ts.Webhooks, ss)
		}
		snap.Tenants = append(snap.Tenants, ts)
	}
	for _, id := range sortedKeys(st.txns) {
		tx := st.txns[id]
		ts := transactionSnap{ID: tx.ID, Reversed: tx.reversed}
		for _, r := range tx.results {
			keep(r.card)
			ts.Results = append(ts.Results, txResultSnap{CardID: r.card.ID, Accrued: r.accrued, Stamps: r.stamps, Check: r.check,
				At: r.at, Reversed: r.reversed, OK: r.ok, Message: r.message})
		}
		snap.Transactions = append(snap.Transactions, ts)
	}
	return json.MarshalIndent(snap, "", " ")
}

func snapTemplate(tm *template) templateSnap {
	snapT := templateSnap{Template: tm.Template, CompanyID: tm.CompanyID, CreatedAt: tm.CreatedAt, TierType: tm.tierType}
	snapT.RewardTiers = nil // the live copy below is the one that counts
	for _, rt := range tm.rewardTiers {
		snapT.Rewards = append(snapT.Rewards, rewardTierSnap{RewardTier: rt, UsageLimit: rt.usageLimit, ValueLimit: rt.valueLimit})
	}
	return snapT
}

func (snapT templateSnap) template() *template {
	tm := &template{Template: snapT.Template, CompanyID: snapT.CompanyID, CreatedAt: snapT.CreatedAt, tierType: snapT.TierType}
	if tm.tierType == nil {
		tm.tierType = map[int]int{}
	}
	for _, r := range snapT.Rewards {
		rt := r.RewardTier
		rt.usageLimit, rt.valueLimit = r.UsageLimit, r.ValueLimit
		tm.rewardTiers = append(tm.rewardTiers, rt)
	}
	return tm
}

func snapCard(c *card) cardSnap {
	return cardSnap{ID: c.ID, TemplateID: c.tmpl.ID, CustomerID: c.CustomerID, Status: c.Status,
		Stamps: c.stamps, Rewards: c.rewards, Balance: c.balance, Uses: c.uses, Visits: c.visits,
		CouponRedeemed: c.couponRedeemed, TierID: c.tierID, Period: c.period, Earned: c.earned, Redeemed: c.redeemed,
		ExpiresAt: c.expiresAt, LastStamp: c.lastStamp, LastEarned: c.lastEarned, LastRedeemed: c.lastRedeemed,
		CustomFields: c.customFields, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (cs cardSnap) card(tm *template, cu *customer) *card {
	return &card{ID: cs.ID, tmpl: tm, cust: cu, CustomerID: cs.CustomerID, Status: cs.Status, stamps: cs.Stamps,
		rewards: cs.Rewards, balance: cs.Balance, uses: cs.Uses, visits: cs.Visits, couponRedeemed: cs.CouponRedeemed,
		tierID: cs.TierID, period: cs.Period, earned: cs.Earned, redeemed: cs.Redeemed, expiresAt: cs.ExpiresAt,
		lastStamp: cs.LastStamp, lastEarned: cs.LastEarned, lastRedeemed: cs.LastRedeemed, customFields: cs.CustomFields,
		CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt}
}

func sortedSubscriptions(m map[string]*subscription) []*subscription {
	out := make([]*subscription, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// NewServerFromState starts a server with the state Save wrote: the same keys, accounts,
// templates, customers, cards, history, pushes, subscriptions and marketplace transactions.
// Options apply as to NewServer (WithTemplates is ignored: the templates are the state's).
// An empty state starts a fresh server.
func NewServerFromState(saved []byte, opts ...Option) (*Server, error) {
	if len(saved) == 0 {
		return NewServer(opts...), nil
	}
	var snap snapshot
	if err := json.Unmarshal(saved, &snap); err != nil {
		return nil, fmt.Errorf("loyaltytest: reading the state: %w", err)
	}
	if snap.Version != snapshotVersion || len(snap.Tenants) == 0 || snap.AgencyKey == "" {
		return nil, fmt.Errorf("loyaltytest: the state is not one Save wrote (version %d, %d accounts)", snap.Version, len(snap.Tenants))
	}
	var restoreErr error
	restore := func(set *settings) {
		set.restore = func(st *state) (agencyKey, appToken string) {
			restoreErr = st.restore(&snap)
			return snap.AgencyKey, snap.AppToken
		}
	}
	s := NewServer(append(opts, restore)...)
	if restoreErr != nil {
		s.Close()
		return nil, restoreErr
	}
	return s, nil
}

// restore replaces the state's accounts with the snapshot's.
func (st *state) restore(snap *snapshot) error {
	st.seq = snap.Seq
	st.companies = newTable[int, tenant]()
	st.byKey = map[string]*tenant{}
	st.txns = map[string]*transaction{}
	st.serials = map[string]bool{}
	cards := map[string]*card{}
	// A removed card keeps its own copy of its template and customer: either may be gone.
	removed := map[string]*card{}
	for _, r := range snap.Removed {
		cu := r.Customer
		c := r.Card.card(r.Template.template(), &cu)
		removed[c.ID] = c
		st.serials[c.ID] = true
	}
	for i, ts := range snap.Tenants {
		co := ts.Company
		t := &tenant{company: &co, isAgency: i == 0, customers: newTable[string, customer](), templates: newTable[int, template](),
			cards: newTable[string, card](), pushes: newTable[string, push](), sms: ts.SMS, profile: ts.Profile,
			agencyProfile: ts.AgencyProfile, webhooks: map[string]*subscription{}}
		for _, c := range ts.Customers {
			c := c
			t.customers.add(c.ID, &c)
		}
		for _, snapT := range ts.Templates {
			tm := snapT.template()
			t.templates.add(tm.ID, tm)
		}
		for _, cs := range ts.Cards {
			tm, cu := t.templates.get(cs.TemplateID), t.customers.get(cs.CustomerID)
			if tm == nil || cu == nil {
				return fmt.Errorf("loyaltytest: card %s refers to a template or customer the state lacks", cs.ID)
			}
			c := cs.card(tm, cu)
			t.cards.add(c.ID, c)
			cards[c.ID] = c
			st.serials[c.ID] = true
		}
		for _, os := range ts.Operations {
			op := os.operation
			if op.card = t.cards.get(os.CardID); op.card == nil {
				op.card = removed[os.CardID]
			}
			if op.card == nil {
				return fmt.Errorf("loyaltytest: an operation refers to card %s, which the state lacks", os.CardID)
			}
			op.visibleAt = os.VisibleAt
			t.ops = append(t.ops, &op)
		}
		for _, p := range ts.Pushes {
			p := p
			t.pushes.add(p.ID, &p)
		}
		for _, ss := range ts.Webhooks {
			sub := &subscription{seq: ss.Seq, id: ss.ID, url: ss.URL, events: map[string]bool{}}
			for _, e := range ss.Events {
				sub.events[e] = true
			}
			t.webhooks[sub.id] = sub
		}
		st.byKey[co.APIKey] = t
		if i == 0 {
			st.agency = t
		} else {
			st.companies.add(co.ID, t)
		}
	}
	for _, txs := range snap.Transactions {
		tx := &transaction{ID: txs.ID, reversed: txs.Reversed}
		for _, r := range txs.Results {
			c := cards[r.CardID]
			if c == nil {
				c = removed[r.CardID]
			}
			if c == nil {
				return fmt.Errorf("loyaltytest: transaction %s refers to card %s, which the state lacks", txs.ID, r.CardID)
			}
			tx.results = append(tx.results, txResult{card: c, accrued: r.Accrued, stamps: r.Stamps, check: r.Check, at: r.At,
				reversed: r.Reversed, ok: r.OK, message: r.Message})
		}
		st.txns[tx.ID] = tx
	}
	return nil
}
