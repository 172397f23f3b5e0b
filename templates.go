package loyalty

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
