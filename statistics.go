package loyalty

import "context"

// StatisticsService reads revenue figures.
type StatisticsService service

// RevenueStats are revenue figures for a period.
type RevenueStats struct {
	RevenueTotal float64      `json:"revenueTotal"`
	TotalCost    float64      `json:"totalCost"`
	LTV          float64      `json:"ltv"`
	ROI          float64      `json:"roi"`
	RevenueByDay []StatsPoint `json:"revenueByDay"`
	ROIByDay     []StatsPoint `json:"roiByDay"`
}

// StatsPoint is one day's value.
type StatsPoint struct {
	Date  string  `json:"date"`
	Value float64 `json:"value"`
}

// RevenueOptions selects what revenue covers. Zero values select everything.
type RevenueOptions struct {
	CompanyID  int  `url:"companyId,omitempty"`
	TemplateID int  `url:"templateId,omitempty"`
	StartDate  Date `url:"startDate,omitempty"`
	EndDate    Date `url:"endDate,omitempty"`
}

func (o *RevenueOptions) checkRange() error {
	if o == nil {
		return nil
	}
	return checkRange(o.StartDate, o.EndDate)
}

// Revenue returns revenue figures, by company or template, for a date range. opts may be
// nil.
//
// Errors: ErrInvalidArgument for a date range that ends before it starts, or dates out of
// range (nothing sent); ErrForbidden for a company the key may not see; *RequestError when
// no answer came (connection, timeout, context); *DecodeError for an answer that cannot be
// read.
//
// API: GET /api/v2/statistics/revenue
func (s *StatisticsService) Revenue(ctx context.Context, opts *RevenueOptions) (*RevenueStats, *Response, error) {
	if err := (*service)(s).ready(ctx); err != nil {
		return nil, nil, err
	}
	if err := opts.checkRange(); err != nil {
		return nil, nil, err
	}
	var q any
	if opts != nil {
		q = opts
	}
	return fetch[RevenueStats](ctx, s.client, call{method: "GET", path: "statistics/revenue", query: q})
}
