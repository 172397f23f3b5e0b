package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	loyalty "github.com/loyaltycards/loyalty-go"
)

func (a *app) mcpCmd() *cobra.Command {
	var writes bool
	c := &cobra.Command{
		Use:   "mcp [--allow-writes]",
		Short: "Offer the same jobs to an AI assistant, over stdio (Model Context Protocol)",
		Long: `Serve the Model Context Protocol over stdin and stdout: tools shaped as the jobs (find a
customer, read a card and its history, list templates and companies; with --allow-writes,
record a purchase once per receipt, apply a card action once per reference, provision a
company once per email). Read-only unless started with --allow-writes. Every write goes
through the SDK's card-type check and its once-promise; no tool returns a key or password.

Configure it in an assistant as the command "loyalty mcp", with LOYALTY_API_KEY in its
environment or a credentials file.`,
		Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			srv := newMCPServer(api, writes)
			err := srv.Run(cmd.Context(), &mcp.IOTransport{Reader: io.NopCloser(a.in), Writer: nopCloser{a.out}})
			if cmd.Context().Err() != nil {
				return nil // stopped (a signal): the end of a server's run, not a failure
			}
			return err
		}),
	}
	c.Flags().BoolVar(&writes, "allow-writes", false, "offer the tools that change cards and companies")
	return c
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// The tools' inputs and outputs. Field names are the JSON the assistant sees.
type (
	customerQuery struct {
		Phone string `json:"phone,omitempty" jsonschema:"the customer's phone, digits with the country code"`
		Email string `json:"email,omitempty" jsonschema:"the customer's email"`
	}
	customerOut struct {
		ID        string `json:"id"`
		FirstName string `json:"firstName"`
		Surname   string `json:"surname"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
	}
	customersOut struct {
		Customers []customerOut `json:"customers"`
		More      bool          `json:"more" jsonschema:"more exist than the ones returned: narrow the query"`
	}
	cardQuery struct {
		Card string `json:"card" jsonschema:"the card's id (its serial, such as 638920-251-210)"`
	}
	cardsQuery struct {
		Phone    string `json:"phone,omitempty" jsonschema:"only the cards of the customer with this phone"`
		Email    string `json:"email,omitempty" jsonschema:"only the cards of the customer with this email"`
		Template int    `json:"template,omitempty" jsonschema:"only the cards issued from this template id"`
	}
	cardOut struct {
		ID              string   `json:"id"`
		Type            string   `json:"type"`
		TemplateID      int      `json:"templateId"`
		CustomerID      string   `json:"customerId"`
		Status          string   `json:"status"`
		Balance         float64  `json:"balance"`
		Unit            string   `json:"unit"`
		RewardAvailable bool     `json:"rewardAvailable"`
		CouponRedeemed  bool     `json:"couponRedeemed"`
		Actions         []string `json:"actions" jsonschema:"the card actions this card's type takes"`
	}
	cardsOut struct {
		Cards []cardOut `json:"cards"`
		More  bool      `json:"more" jsonschema:"more exist than the ones returned: narrow the query"`
	}
	operationOut struct {
		ID        int     `json:"id"`
		EventID   int     `json:"eventId"`
		Amount    float64 `json:"amount"`
		Balance   int     `json:"balance"`
		Comment   string  `json:"comment"`
		CreatedAt any     `json:"createdAt"`
	}
	historyOut struct {
		Operations []operationOut `json:"operations"`
		More       bool           `json:"more" jsonschema:"more exist than the ones returned: narrow the query"`
	}
	templateOut struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	}
	templatesOut struct {
		Templates []templateOut `json:"templates"`
		More      bool          `json:"more" jsonschema:"more exist than the ones returned: narrow the query"`
	}
	companyOut struct {
		ID       int    `json:"id"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		TariffID int    `json:"tariffId"`
		Outcome  string `json:"outcome,omitempty" jsonschema:"created or found, for provision_company"`
	}
	companiesOut struct {
		Companies []companyOut `json:"companies"`
		More      bool         `json:"more" jsonschema:"more exist than the ones returned: narrow the query"`
	}
	purchaseIn struct {
		Card     string  `json:"card,omitempty" jsonschema:"the card's id; or give phone or email with template"`
		Phone    string  `json:"phone,omitempty"`
		Email    string  `json:"email,omitempty"`
		Template int     `json:"template,omitempty"`
		Amount   float64 `json:"amount" jsonschema:"the purchase, in the account's currency"`
		Receipt  string  `json:"receipt" jsonschema:"the receipt's id: recorded at most once per receipt"`
	}
	purchaseOut struct {
		Card            string  `json:"card"`
		Action          string  `json:"action"`
		Quantity        float64 `json:"quantity"`
		QuantityUnit    string  `json:"quantityUnit"`
		Balance         float64 `json:"balance"`
		BalanceUnit     string  `json:"balanceUnit"`
		RewardAvailable bool    `json:"rewardAvailable"`
		AlreadyRecorded bool    `json:"alreadyRecorded"`
	}
	actionIn struct {
		Card      string   `json:"card"`
		Action    string   `json:"action" jsonschema:"the action's name, such as add-stamp or subtract-point"`
		Args      []string `json:"args,omitempty" jsonschema:"its argument: a count, an amount, a tier id"`
		Reference string   `json:"reference" jsonschema:"your id for it (receipt, ticket): applied at most once per reference"`
	}
	actionOut struct {
		Card           cardOut `json:"card"`
		AlreadyApplied bool    `json:"alreadyApplied"`
	}
	companyIn struct {
		Name         string `json:"name"`
		Email        string `json:"email"`
		Phone        string `json:"phone"`
		Country      string `json:"country" jsonschema:"two-letter country code"`
		UserName     string `json:"userName" jsonschema:"the owner's first name"`
		UserSurname  string `json:"userSurname"`
		TariffID     int    `json:"tariffId"`
		TariffPeriod string `json:"tariffPeriod" jsonschema:"trial, month, quarter, six_months, year, ..."`
	}
)

func toCard(c *loyalty.Card) cardOut {
	value, unit, reward := c.Holds(nil)
	var actions []string
	for _, a := range loyalty.Actions() {
		if loyalty.ActionAppliesTo(a, c.Type) {
			actions = append(actions, a.String())
		}
	}
	return cardOut{c.ID, c.Type.String(), c.TemplateID, c.CustomerID, string(c.Status), value, unit, reward, c.CouponRedeemed, actions}
}

func toCompany(c *loyalty.Company) companyOut {
	return companyOut{ID: c.ID, Name: c.Name, Email: c.Email, TariffID: c.TariffID}
}

// listMax bounds what a list tool returns: an assistant's context is no place for a whole
// account, and the requests to read one are the key's rate limit for everyone else.
const listMax = 100

// collect reads up to listMax items of seq, converted, and says whether there are more.
func collect[T, U any](seq iter.Seq2[T, error], conv func(*T) U) ([]U, bool, error) {
	out := []U{}
	for item, err := range seq {
		if err != nil {
			return nil, false, err
		}
		if len(out) == listMax {
			return out, true, nil
		}
		out = append(out, conv(&item))
	}
	return out, false, nil
}

// readOnly and writing annotate the tools, for assistants that ask before a write.
var (
	readOnly = &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true}
	writing  = &mcp.ToolAnnotations{IdempotentHint: true} // once per receipt, reference or email
)

// newMCPServer offers the jobs as tools: reads always; writes only when allowed.
func newMCPServer(api *loyalty.Client, writes bool) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "loyalty", Version: loyalty.Version}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "find_customer", Description: "Find customers by phone or email.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, q customerQuery) (*mcp.CallToolResult, customersOut, error) {
			if q.Phone == "" && q.Email == "" {
				return nil, customersOut{}, errors.New("give phone or email")
			}
			cs, more, err := collect(api.Customers.All(ctx, &loyalty.CustomerListOptions{Phone: q.Phone, Email: q.Email}),
				func(c *loyalty.Customer) customerOut {
					return customerOut{c.ID, c.FirstName, c.Surname, c.Email, c.Phone}
				})
			return nil, customersOut{cs, more}, err
		})
	mcp.AddTool(s, &mcp.Tool{Name: "read_card", Description: "Read a card: its type, what it holds, whether a reward waits, and the actions it takes.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, q cardQuery) (*mcp.CallToolResult, cardOut, error) {
			c, _, err := api.Cards.Get(ctx, q.Card)
			if err != nil {
				return nil, cardOut{}, err
			}
			return nil, toCard(c), nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "list_cards", Description: "List cards, by the customer's phone or email, or by template.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, q cardsQuery) (*mcp.CallToolResult, cardsOut, error) {
			cs, more, err := collect(api.Cards.All(ctx, &loyalty.CardListOptions{CustomerPhone: q.Phone, CustomerEmail: q.Email, TemplateID: q.Template}), toCard)
			return nil, cardsOut{cs, more}, err
		})
	mcp.AddTool(s, &mcp.Tool{Name: "card_history", Description: "A card's history: every action applied to it, with its comment and reference.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, q cardQuery) (*mcp.CallToolResult, historyOut, error) {
			ops, more, err := collect(api.Operations.All(ctx, &loyalty.OperationListOptions{CardID: q.Card}), func(o *loyalty.Operation) operationOut {
				return operationOut{o.ID, o.EventID, o.Amount, o.Balance, o.Comment, when(o.CreatedAt)}
			})
			return nil, historyOut{ops, more}, err
		})
	mcp.AddTool(s, &mcp.Tool{Name: "list_templates", Description: "List the card templates, from which cards are issued.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, templatesOut, error) {
			ts, more, err := collect(api.Templates.All(ctx, nil), func(t *loyalty.Template) templateOut { return templateOut{t.ID, t.Name, t.Type.String()} })
			return nil, templatesOut{ts, more}, err
		})
	mcp.AddTool(s, &mcp.Tool{Name: "list_companies", Description: "List the agency's companies (never their keys).", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, companiesOut, error) {
			cs, more, err := collect(api.Companies.All(ctx, nil), toCompany)
			return nil, companiesOut{cs, more}, err
		})
	if !writes {
		return s
	}
	mcp.AddTool(s, &mcp.Tool{Name: "record_purchase", Annotations: writing,
		Description: "Record a purchase on a customer's card, at most once per receipt: the action that fits the card's type (stamps, points, a visit)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in purchaseIn) (*mcp.CallToolResult, purchaseOut, error) {
			res, _, err := api.Cards.Purchase(ctx, &loyalty.PurchaseRequest{CardID: in.Card, CustomerPhone: in.Phone, CustomerEmail: in.Email,
				TemplateID: in.Template, Amount: in.Amount, Receipt: in.Receipt}, nil)
			if err != nil {
				return nil, purchaseOut{}, err
			}
			out := purchaseOut{Card: in.Card, Quantity: res.Quantity, QuantityUnit: res.QuantityUnit, Balance: res.Balance,
				BalanceUnit: res.BalanceUnit, RewardAvailable: res.RewardAvailable, AlreadyRecorded: res.AlreadyRecorded}
			if res.Card != nil {
				out.Card = res.Card.ID
			}
			if res.Action != 0 {
				out.Action = res.Action.String()
			}
			return nil, out, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "apply_card_action", Annotations: writing,
		Description: "Apply a card action by name (add-stamp, subtract-point, redeem-coupon, ...), checked against the card's type before anything is sent, at most once per reference."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in actionIn) (*mcp.CallToolResult, actionOut, error) {
			spec, f, err := bindAction(api.Cards, in.Action, in.Args)
			switch {
			case err != nil:
				return nil, actionOut{}, err
			case spec.setter:
				return nil, actionOut{}, fmt.Errorf("%s takes no reference, so it cannot be applied once: it is not offered here", in.Action)
			}
			c, _, err := api.Cards.ApplyOnce(ctx, in.Card, f, &loyalty.ActionOptions{Reference: in.Reference}, nil)
			already := errors.Is(err, loyalty.ErrAlreadyApplied)
			if err != nil && !already {
				return nil, actionOut{}, err
			}
			if c == nil {
				c = &loyalty.Card{ID: in.Card}
			}
			return nil, actionOut{toCard(c), already}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "provision_company", Annotations: writing,
		Description: "Create a company (sub-account) unless one with its email exists; says created or found. Its key is never returned: the agency reads it from the dashboard or with 'loyalty companies provision --keys'."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in companyIn) (*mcp.CallToolResult, companyOut, error) {
			req := &loyalty.CompanyCreateRequest{Name: in.Name, Email: in.Email, Phone: in.Phone, Country: in.Country,
				UserName: in.UserName, UserSurname: in.UserSurname, TariffID: in.TariffID, TariffPeriod: loyalty.TariffPeriod(in.TariffPeriod),
				Password: loyalty.NewSecret(newPassword())}
			co, resp, err := api.Companies.CreateOnce(ctx, req, nil)
			if err != nil {
				return nil, companyOut{}, err
			}
			out := toCompany(co)
			out.Outcome = "created"
			if resp.Found {
				out.Outcome = "found"
			}
			return nil, out, nil
		})
	return s
}
