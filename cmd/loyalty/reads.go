package main

import (
	"iter"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// when is a time as the output shows it: RFC 3339, or none.
func when(t loyalty.Timestamp) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// companyCols and companyRow print a company; never its key.
var companyCols = []string{"id", "name", "email", "phone", "tariffId", "status", "createdAt"}

func companyRow(c *loyalty.Company) []any {
	return []any{c.ID, c.Name, c.Email, c.Phone, c.TariffID, c.Status, when(c.CreatedAt)}
}

var customerCols = []string{"id", "firstName", "surname", "email", "phone", "createdAt"}

func customerRow(c *loyalty.Customer) []any {
	return []any{c.ID, c.FirstName, c.Surname, c.Email, c.Phone, when(c.CreatedAt)}
}

var cardCols = []string{"id", "type", "templateId", "customerId", "phone", "status", "balance", "unit", "rewardAvailable", "couponRedeemed"}

func cardRow(c *loyalty.Card) []any {
	value, unit, reward := c.Holds(nil)
	return []any{c.ID, c.Type.String(), c.TemplateID, c.CustomerID, c.Customer.Phone, string(c.Status), value, unit, reward, c.CouponRedeemed}
}

var templateCols = []string{"id", "name", "type", "createdAt"}

func templateRow(t *loyalty.Template) []any {
	return []any{t.ID, t.Name, t.Type.String(), when(t.CreatedAt)}
}

// intArg reads a numeric id argument.
func intArg(name, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usagef("%s %q: want a positive whole number", name, s)
	}
	return n, nil
}

// list prints every item of seq in a table.
func list[T any](a *app, cols []string, seq iter.Seq2[T, error], row func(*T) []any) error {
	t := a.table(cols...)
	for item, err := range seq {
		if err != nil {
			_ = t.flush()
			return err
		}
		if err := t.row(row(&item)...); err != nil {
			return err
		}
	}
	return t.flush()
}

// one prints a single item.
func one[T any](a *app, cols []string, item *T, row func(*T) []any) error {
	t := a.table(cols...)
	if err := t.row(row(item)...); err != nil {
		return err
	}
	return t.flush()
}

func (a *app) companiesCmd() *cobra.Command {
	c := &cobra.Command{Use: "companies", Short: "The agency's companies (sub-accounts)"}
	c.AddCommand(&cobra.Command{
		Use: "list", Short: "List every company", Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			return list(a, companyCols, api.Companies.All(cmd.Context(), nil), companyRow)
		}),
	}, &cobra.Command{
		Use: "get ID", Short: "Show one company (never its key)", Args: args(1, "a company id"),
		RunE: a.withAPI(func(cmd *cobra.Command, argv []string, api *loyalty.Client) error {
			id, err := intArg("company id", argv[0])
			if err != nil {
				return err
			}
			co, _, err := api.Companies.Get(cmd.Context(), id)
			if err != nil {
				return err
			}
			return one(a, companyCols, co, companyRow)
		}),
	}, a.provisionCmd())
	return c
}

func (a *app) customersCmd() *cobra.Command {
	c := &cobra.Command{Use: "customers", Short: "Customers, the people cards are issued to"}
	var phone, email string
	find := &cobra.Command{
		Use: "find --phone PHONE | --email EMAIL", Short: "Find customers by phone or email", Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			if phone == "" && email == "" {
				return usagef("customers find needs --phone or --email")
			}
			return list(a, customerCols, api.Customers.All(cmd.Context(), &loyalty.CustomerListOptions{Phone: phone, Email: email}), customerRow)
		}),
	}
	find.Flags().StringVar(&phone, "phone", "", "the customer's phone, digits with the country code")
	find.Flags().StringVar(&email, "email", "", "the customer's email")
	c.AddCommand(find)
	return c
}

func (a *app) cardsCmd() *cobra.Command {
	c := &cobra.Command{Use: "cards", Short: "Cards: read them, record purchases, apply actions"}
	var f loyalty.CardListOptions
	ls := &cobra.Command{
		Use: "list", Short: "List cards, filtered by customer or template", Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			return list(a, cardCols, api.Cards.All(cmd.Context(), &f), cardRow)
		}),
	}
	ls.Flags().StringVar(&f.CustomerPhone, "phone", "", "only the cards of the customer with this phone")
	ls.Flags().StringVar(&f.CustomerEmail, "email", "", "only the cards of the customer with this email")
	ls.Flags().StringVar(&f.CustomerID, "customer", "", "only the cards of this customer id")
	ls.Flags().IntVar(&f.TemplateID, "template", 0, "only the cards issued from this template id")
	get := &cobra.Command{
		Use: "get CARD", Short: "Show one card and what it holds", Args: args(1, "a card id"),
		RunE: a.withAPI(func(cmd *cobra.Command, argv []string, api *loyalty.Client) error {
			card, _, err := api.Cards.Get(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return one(a, cardCols, card, cardRow)
		}),
	}
	c.AddCommand(ls, get, a.purchaseCmd(), a.applyCmd())
	return c
}

func (a *app) templatesCmd() *cobra.Command {
	c := &cobra.Command{Use: "templates", Short: "Card templates, from which cards are issued"}
	c.AddCommand(&cobra.Command{
		Use: "list", Short: "List every template", Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			return list(a, templateCols, api.Templates.All(cmd.Context(), nil), templateRow)
		}),
	}, &cobra.Command{
		Use: "get ID", Short: "Show one template", Args: args(1, "a template id"),
		RunE: a.withAPI(func(cmd *cobra.Command, argv []string, api *loyalty.Client) error {
			id, err := intArg("template id", argv[0])
			if err != nil {
				return err
			}
			t, _, err := api.Templates.Get(cmd.Context(), id)
			if err != nil {
				return err
			}
			return one(a, templateCols, t, templateRow)
		}),
	})
	return c
}

func (a *app) operationsCmd() *cobra.Command {
	c := &cobra.Command{Use: "operations", Short: "The card history: every action applied"}
	var card string
	ls := &cobra.Command{
		Use: "list --card CARD", Short: "List a card's history", Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			return list(a, []string{"id", "cardId", "eventId", "amount", "balance", "comment", "createdAt"},
				api.Operations.All(cmd.Context(), &loyalty.OperationListOptions{CardID: card}),
				func(o *loyalty.Operation) []any {
					return []any{o.ID, o.CardID, o.EventID, o.Amount, o.Balance, o.Comment, when(o.CreatedAt)}
				})
		}),
	}
	ls.Flags().StringVar(&card, "card", "", "the card's id")
	_ = ls.MarkFlagRequired("card")
	c.AddCommand(ls)
	return c
}

func (a *app) tariffsCmd() *cobra.Command {
	c := &cobra.Command{Use: "tariffs", Short: "The plans a company can be on"}
	c.AddCommand(&cobra.Command{
		Use: "list", Short: "List the tariffs", Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			ts, _, err := api.Tariffs.List(cmd.Context())
			if err != nil {
				return err
			}
			t := a.table("id", "name", "country", "currency")
			for _, x := range ts {
				if err := t.row(x.ID, x.Name, x.Country, x.Currency); err != nil {
					return err
				}
			}
			return t.flush()
		}),
	})
	return c
}
