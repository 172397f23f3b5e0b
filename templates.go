package loyalty

import "strings"

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
