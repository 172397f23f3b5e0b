package loyalty

import (
	"context"
	"iter"
	"math"
	"strings"
	"sync"
	"time"
)

// TemplatesService reads card templates and manages their reward tiers.
type TemplatesService service

// TemplateListOptions pages the template list.
type TemplateListOptions struct {
	ListOptions
}

// RewardTierCreateRequest adds a reward tier to a template.
type RewardTierCreateRequest struct {
	Name string         `json:"name"`
	Type RewardTierType `json:"type"`
	// Value is what the reward gives: an amount or a percentage, by Type.
	Value float64 `json:"value"`
	// Threshold is the balance at which the reward is earned.
	Threshold  *int     `json:"threshold,omitempty"`
	UsageLimit *int     `json:"usageLimit,omitempty"`
	ValueLimit *float64 `json:"valueLimit,omitempty"`
}

// List returns one page of templates (opts nil: the first page), with the page's Meta on the
// Response.
//
// Errors: ErrInvalidArgument for options out of range (nothing sent); ErrUnauthorized or
// ErrForbidden for a key that may not list templates; *RequestError when no answer came
// (connection, timeout, context); *DecodeError for a page that cannot be read or is over its
// bounds (more items than asked for, say).
//
// API: GET /api/v2/templates
func (s *TemplatesService) List(ctx context.Context, opts *TemplateListOptions) ([]Template, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	return list[Template](ctx, s.client, "templates", opts)
}

// All walks every template, fetching pages as the loop reaches them.
//
// API: GET /api/v2/templates, page after page
func (s *TemplatesService) All(ctx context.Context, opts *TemplateListOptions) iter.Seq2[Template, error] {
	if err := (*service)(s).ready(ctx); err != nil {
		return failed[Template](err)
	}
	return walk[Template](ctx, s.client, "templates", opts)
}

// Get returns a template. Pass it in ActionOptions.Template to let card actions check its
// mechanics and membership limits.
//
// Errors: ErrInvalidArgument for an id of 0 or less (nothing sent); ErrNotFound when there
// is no such template; ErrUnauthorized or ErrForbidden for a key that may not see it;
// *RequestError when no answer came (connection, timeout, context); *DecodeError for an
// answer that cannot be read.
//
// API: GET /api/v2/templates/{id}
func (s *TemplatesService) Get(ctx context.Context, id int) (*Template, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	p, err := intSegment("id", id)
	if err != nil {
		return nil, nil, err
	}
	tmpl, resp, err := fetch[Template](ctx, s.client, call{method: "GET", path: "templates/" + p})
	if err == nil {
		s.client.templates.put(tmpl)
	}
	return tmpl, resp, err
}

// templateKeep is how long a template read stays in the client's cache. A template's
// mechanics choose a purchase's action; they change rarely, and a stale one at worst makes
// the server refuse the action (ErrActionNotAllowed), never apply it twice.
const templateKeep = 10 * time.Minute

// templateCache keeps the templates a client has read, by id, for templateKeep: a returning
// card's purchase costs no template read. An account has tens of templates; the cache holds
// at most maxTemplates.
type templateCache struct {
	mu sync.Mutex
	m  map[int]cachedTemplate
}

type cachedTemplate struct {
	t  *Template
	at time.Time
}

const maxTemplates = 1024

func (c *templateCache) get(id int) *Template {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok && time.Since(e.at) < templateKeep {
		return e.t
	}
	return nil
}

func (c *templateCache) put(t *Template) {
	if t == nil || t.ID == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxTemplates {
		c.m = map[int]cachedTemplate{} // tens in an account: starting over is cheap
	}
	c.m[t.ID] = cachedTemplate{t, time.Now()}
}

// template returns a template from the client's cache, or reads it.
func (c *Client) template(ctx context.Context, id int) (*Template, error) {
	if t := c.templates.get(id); t != nil {
		return t, nil
	}
	t, _, err := c.Templates.Get(ctx, id)
	return t, err
}

// CreateRewardTier adds a reward tier to a template, and returns the tier
// (Response.StatusCode 201).
//
// Errors: ErrInvalidArgument for a template id of 0 or less, or a tier without a name or
// with a value out of range (nothing sent); ErrNotFound when there is no such template;
// ErrValidation for a tier the API refuses; *OutcomeUnknownError when the answer was lost (a
// create is never sent twice).
//
// API: POST /api/v2/templates/{templateId}/reward_tiers
func (s *TemplatesService) CreateRewardTier(ctx context.Context, templateID int, req *RewardTierCreateRequest) (*RewardTier, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, invalid("request", "must not be nil")
	}
	p, err := intSegment("templateId", templateID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case req.Name == "":
		return nil, nil, invalid("name", "must not be empty")
	case req.Type < RewardTierCustom || req.Type > RewardTierPercent:
		return nil, nil, invalid("type", "must be 0 (custom), 1 (amount) or 2 (percent)")
	case math.IsNaN(req.Value) || math.IsInf(req.Value, 0):
		return nil, nil, invalid("value", "must be a finite number")
	case req.ValueLimit != nil && (math.IsNaN(*req.ValueLimit) || math.IsInf(*req.ValueLimit, 0)):
		return nil, nil, invalid("valueLimit", "must be a finite number")
	}
	return fetch[RewardTier](ctx, s.client, call{method: "POST", path: "templates/" + p + "/reward_tiers", body: req})
}

// DeleteRewardTier removes a reward tier from a template.
//
// Returns the answer; Response.DeletedEarlier is set when an earlier attempt, whose answer
// was lost, deleted it (the delete is retried, and the retry finds it gone). Errors:
// ErrInvalidArgument for an id of 0 or less (nothing sent); ErrNotFound when there is no
// such template or tier; *RequestError when no answer came (connection, timeout, context).
//
// API: DELETE /api/v2/templates/{templateId}/reward_tiers/{id}
func (s *TemplatesService) DeleteRewardTier(ctx context.Context, templateID, tierID int) (*Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, err
	}
	p, err := intSegment("templateId", templateID)
	if err != nil {
		return nil, err
	}
	tp, err := intSegment("id", tierID)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &call{method: "DELETE", path: "templates/" + p + "/reward_tiers/" + tp})
}

// Template is a card design and its rules, from which cards are issued.
type Template struct {
	ID        int    `json:"id"`
	CompanyID int    `json:"companyId"`
	Name      string `json:"name"`
	// Type is the type of the cards issued from it. The API documents a number here and has been
	// seen sending the name; both are read.
	Type            CardType         `json:"type"`
	InstallLink     string           `json:"installLink"`
	QRLink          string           `json:"qrLink"`
	CustomFields    []CustomField    `json:"customFields"`
	MembershipTiers []MembershipTier `json:"membershipTiers"`
	RewardTiers     []RewardTier     `json:"rewardTiers"`
	// Mechanics is an undocumented block some templates carry; nil when absent.
	Mechanics *TemplateMechanics `json:"mechanics"`
	CreatedAt Timestamp          `json:"createdAt"`
	UpdatedAt Timestamp          `json:"updatedAt"`

	// unread: see Card.
	unread []string
}

// Mechanics is what a stamp or reward card counts: visits, money spent, or points.
type Mechanics string

// Mechanics the action table depends on.
const (
	MechanicsVisits Mechanics = "visits"
	MechanicsSpend  Mechanics = "spend"
	MechanicsPoints Mechanics = "points"
)

// TemplateMechanics is the template's undocumented mechanics block as seen from the live API:
// program.type on reward cards, accrual settings on stamp cards. Its shape is not promised,
// so every member is optional.
type TemplateMechanics struct {
	Program struct {
		Type string `json:"type"`
	} `json:"program"`
	Accrual struct {
		Type             string  `json:"type"`
		StampsPerAccrual float64 `json:"stampsPerAccrual"`
	} `json:"accrual"`
}

// Kind returns what the template counts, or "" when the block does not say.
func (m *TemplateMechanics) Kind() Mechanics {
	if m == nil {
		return ""
	}
	for _, s := range []string{m.Program.Type, m.Accrual.Type} {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "visit", "visits":
			return MechanicsVisits
		case "spend", "spending", "purchase", "purchases", "amount":
			return MechanicsSpend
		case "point", "points", "score", "scores":
			return MechanicsPoints
		}
	}
	return ""
}

// RewardTierType is how a reward tier's value is meant.
type RewardTierType int

// Reward tier types.
const (
	RewardTierCustom  RewardTierType = 0
	RewardTierAmount  RewardTierType = 1
	RewardTierPercent RewardTierType = 2
)

// RewardTier is a reward a card can earn: the threshold to reach and what it gives.
type RewardTier struct {
	ID         int            `json:"id"`
	TemplateID int            `json:"templateId"`
	Name       string         `json:"name"`
	Type       RewardTierType `json:"type"`
	Threshold  int            `json:"threshold"`
	Value      float64        `json:"value"`
	ValueLimit float64        `json:"valueLimit"`
	UsageLimit int            `json:"usageLimit"`
}

// MembershipTier is a level of a membership card, with its price and visit limits per period.
type MembershipTier struct {
	ID                int                   `json:"id"`
	TemplateID        int                   `json:"templateId"`
	Name              string                `json:"name"`
	Description       string                `json:"description"`
	Benefits          []string              `json:"benefits"`
	DailyParameters   MembershipTierPricing `json:"dailyParameters"`
	WeeklyParameters  MembershipTierPricing `json:"weeklyParameters"`
	MonthlyParameters MembershipTierPricing `json:"monthlyParameters"`
	YearlyParameters  MembershipTierPricing `json:"yearlyParameters"`
}

// MembershipTierPricing is a membership tier's terms for one period. A Limit of 0 means
// unlimited visits.
type MembershipTierPricing struct {
	Active         bool    `json:"active"`
	Limit          int     `json:"limit"`
	PerFilialLimit int     `json:"perFilialLimit"`
	Price          float64 `json:"price"`
	Recommended    bool    `json:"recommended"`
}
