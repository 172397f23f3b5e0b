package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// actionSpec is a card action as the command line names it.
type actionSpec struct {
	// action is the SDK's; zero for clear-expiration-date, which the API spells as a
	// set-expiration-date without a date.
	action loyalty.Action
	// alias is the SDK method's name in kebab case (add-stamps for AddStamps), where it is
	// not the API's name (action.String()).
	alias string
	args  string // what follows the action's name, for usage
	// setter marks an action that sets a state rather than moving a balance: it takes no
	// reference (the API stores no comment for it) and applying it twice changes nothing more.
	setter bool
	// spends marks what takes something from the customer: confirmed before it is sent.
	spends bool
	bind   func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error)
}

// name is the action's name as the API writes it.
func (s actionSpec) name() string {
	if s.action == 0 {
		return "clear-expiration-date"
	}
	return s.action.String()
}

// argCount is how many arguments follow an action's name.
func (s actionSpec) argCount() int { return len(strings.Fields(s.args)) }

// cardMethod is a CardsService action method as a method expression.
type cardMethod[Q any] func(*loyalty.CardsService, context.Context, string, Q, *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error)

// wholeN binds an action that takes a count.
func wholeN(f cardMethod[int]) func(*loyalty.CardsService, []string) (loyalty.ActionFunc, error) {
	return func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
		n, err := strconv.Atoi(argv[0])
		if err != nil {
			return nil, usagef("%q: want a whole number", argv[0])
		}
		return bound(c, f, n), nil
	}
}

// amount binds an action that takes an amount with decimals.
func amount(f cardMethod[float64]) func(*loyalty.CardsService, []string) (loyalty.ActionFunc, error) {
	return func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
		x, err := strconv.ParseFloat(argv[0], 64)
		if err != nil {
			return nil, usagef("%q: want an amount, such as 12.50", argv[0])
		}
		return bound(c, f, x), nil
	}
}

// bound is f on c with its quantity fixed.
func bound[Q any](c *loyalty.CardsService, f cardMethod[Q], q Q) loyalty.ActionFunc {
	return func(ctx context.Context, id string, o *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error) {
		return f(c, ctx, id, q, o)
	}
}

// none binds an action that takes no quantity.
func none(f func(*loyalty.CardsService, context.Context, string, *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error)) func(*loyalty.CardsService, []string) (loyalty.ActionFunc, error) {
	return func(c *loyalty.CardsService, _ []string) (loyalty.ActionFunc, error) {
		return func(ctx context.Context, id string, o *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error) {
			return f(c, ctx, id, o)
		}, nil
	}
}

// cards shortens the method expressions of the table below.
type cards = loyalty.CardsService

// actionSpecs are the card actions the command applies, every one of the SDK's
// (TestEveryActionHasASpec); the SDK checks each against the card's type before it is sent.
var actionSpecs = []actionSpec{
	{action: loyalty.ActionAddAmount, alias: "add-amount", args: "UNITS", bind: wholeN((*cards).AddAmount)},
	{action: loyalty.ActionSubtractAmount, alias: "subtract-amount", args: "UNITS", spends: true, bind: wholeN((*cards).SubtractAmount)},
	{action: loyalty.ActionAddPoints, alias: "add-points", args: "AMOUNT", bind: amount((*cards).AddPoints)},
	{action: loyalty.ActionSubtractPoints, alias: "subtract-points", args: "AMOUNT", spends: true, bind: amount((*cards).SubtractPoints)},
	{action: loyalty.ActionAddRewards, alias: "add-rewards", args: "N", bind: wholeN((*cards).AddRewards)},
	{action: loyalty.ActionSubtractRewards, alias: "subtract-rewards", args: "N", spends: true, bind: wholeN((*cards).SubtractRewards)},
	{action: loyalty.ActionAddScores, args: "N", bind: wholeN((*cards).AddScores)},
	{action: loyalty.ActionSubtractScores, args: "N", spends: true, bind: wholeN((*cards).SubtractScores)},
	{action: loyalty.ActionAddStamps, alias: "add-stamps", args: "N", bind: wholeN((*cards).AddStamps)},
	{action: loyalty.ActionSubtractStamps, alias: "subtract-stamps", args: "N", spends: true, bind: wholeN((*cards).SubtractStamps)},
	{action: loyalty.ActionAddVisits, alias: "add-visits", args: "N", bind: wholeN((*cards).AddVisits)},
	{action: loyalty.ActionSubtractVisits, alias: "subtract-visits", args: "N", spends: true, bind: wholeN((*cards).SubtractVisits)},
	{action: loyalty.ActionAddPurchase, args: "AMOUNT", bind: amount((*cards).AddPurchase)},
	{action: loyalty.ActionSubtractPurchase, args: "AMOUNT", spends: true, bind: amount((*cards).SubtractPurchase)},
	{action: loyalty.ActionReceiveReward, args: "TIER", spends: true, bind: wholeN((*cards).ReceiveReward)},
	{action: loyalty.ActionRedeemCoupon, spends: true, bind: none((*cards).RedeemCoupon)},
	{action: loyalty.ActionSetMembershipTier, args: "TIER PERIOD", setter: true,
		bind: func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
			tier, err := intArg("tier", argv[0])
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, id string, o *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error) {
				return c.SetMembershipTier(ctx, id, tier, loyalty.MembershipPeriod(argv[1]), o)
			}, nil
		}},
	{action: loyalty.ActionSetExpirationDate, args: "DATE", setter: true,
		bind: func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
			t, err := time.Parse(time.RFC3339, argv[0])
			if err != nil {
				d, derr := time.Parse(time.DateOnly, argv[0])
				if derr != nil {
					return nil, usagef("%q: want a date, 2027-01-31, or a time, 2027-01-31T18:00:00+01:00", argv[0])
				}
				t = d
			}
			return bound(c, (*cards).SetExpirationDate, t), nil
		}},
	{setter: true, bind: none((*cards).ClearExpirationDate)},
}

// bindAction finds the action named name (the API's name or the SDK method's) and binds it to
// c and its arguments; a wrong name or argument is a usage error.
func bindAction(c *loyalty.CardsService, name string, argv []string) (actionSpec, loyalty.ActionFunc, error) {
	i := slices.IndexFunc(actionSpecs, func(s actionSpec) bool { return name != "" && (s.name() == name || s.alias == name) })
	if i < 0 {
		return actionSpec{}, nil, usagef("no card action %q; 'loyalty cards apply --help' lists them", name)
	}
	spec := actionSpecs[i]
	if len(argv) != spec.argCount() {
		return spec, nil, usagef("%s takes %s", name, cmp.Or(spec.args, "no argument"))
	}
	f, err := spec.bind(c, argv)
	return spec, f, err
}

// confirm asks before what cannot be undone: on a terminal, a question; elsewhere, --yes.
func (a *app) confirm(what string, yes bool) error {
	if yes {
		return nil
	}
	if !a.askable {
		return usagef("%s cannot be undone: add --yes to do it without a terminal (nothing was sent)", what)
	}
	fmt.Fprintf(a.err, "%s cannot be undone. Go ahead? [y/N] ", what)
	line, _ := bufio.NewReader(a.in).ReadString('\n')
	if s := strings.ToLower(strings.TrimSpace(line)); s != "y" && s != "yes" {
		return errors.New("not confirmed: nothing was sent")
	}
	return nil
}

var actionResultCols = append(slices.Clone(cardCols), "alreadyApplied")

func (a *app) applyCmd() *cobra.Command {
	var ref, comment string
	var yes bool
	var names []string
	for _, s := range actionSpecs {
		names = append(names, strings.TrimSpace(s.name()+" "+s.args))
	}
	c := &cobra.Command{
		Use:   "apply CARD ACTION [ARGS] --reference REF",
		Short: "Apply a card action by name, at most once per reference",
		Long: "Apply a card action by name: the SDK checks it against the card's type before anything is sent,\n" +
			"and applies it at most once per --reference (a receipt or ticket id), finding a lost answer in\n" +
			"the card's history. Names: the API's (add-stamp) or the SDK's (add-stamps). Actions:\n  " +
			strings.Join(names, "\n  "),
		Args: cobra.MinimumNArgs(2),
		RunE: a.withAPI(func(cmd *cobra.Command, argv []string, api *loyalty.Client) error {
			card, name := argv[0], argv[1]
			spec, f, err := bindAction(api.Cards, name, argv[2:])
			if err != nil {
				return err
			}
			if !spec.setter && ref == "" {
				return usagef("%s needs --reference (a receipt or ticket id): it is applied at most once per reference", name)
			}
			if spec.spends {
				if err := a.confirm(name+" on card "+card, yes); err != nil {
					return err
				}
			}
			opts := &loyalty.ActionOptions{Comment: comment}
			var after *loyalty.Card
			if spec.setter {
				after, _, err = f(cmd.Context(), card, opts)
			} else {
				opts.Reference = ref
				after, _, err = api.Cards.ApplyOnce(cmd.Context(), card, f, opts, nil)
			}
			already := errors.Is(err, loyalty.ErrAlreadyApplied)
			if err != nil && !already {
				return err
			}
			if already {
				fmt.Fprintf(a.err, "reference %s was applied to card %s before: nothing sent\n", ref, card)
			}
			if after == nil {
				after = &loyalty.Card{ID: card}
			}
			return one(a, actionResultCols, after, func(c *loyalty.Card) []any { return append(cardRow(c), already) })
		}),
	}
	c.Flags().StringVar(&ref, "reference", "", "your id for this action (receipt, ticket): applied at most once per reference")
	c.Flags().StringVar(&comment, "comment", "", "stored with the operation in the card's history")
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do what cannot be undone (subtract, redeem) without asking")
	return c
}

func (a *app) purchaseCmd() *cobra.Command {
	var req loyalty.PurchaseRequest
	c := &cobra.Command{
		Use:   "purchase [CARD] --amount AMOUNT --receipt RECEIPT",
		Short: "Record a purchase on a card, at most once per receipt",
		Long: "Record a purchase: the action that fits the card's type and template (points on a cashback card,\n" +
			"a stamp on a stamp card, a visit on a membership card, ...), applied at most once per receipt.\n" +
			"The card by its id, or by --phone or --email with --template; --issue issues one when the customer\n" +
			"has none.",
		Args: cobra.MaximumNArgs(1),
		RunE: a.withAPI(func(cmd *cobra.Command, argv []string, api *loyalty.Client) error {
			if len(argv) == 1 {
				req.CardID = argv[0]
			}
			if req.CardID == "" && req.CustomerPhone == "" && req.CustomerEmail == "" {
				return usagef("purchase needs a card id, or --phone or --email with --template")
			}
			res, _, err := api.Cards.Purchase(cmd.Context(), &req, nil)
			if err != nil {
				return err
			}
			id := req.CardID
			if res.Card != nil {
				id = res.Card.ID
			}
			action := ""
			if res.Action != 0 {
				action = res.Action.String()
			}
			if res.AlreadyRecorded {
				fmt.Fprintf(a.err, "receipt %s was recorded before: nothing sent\n", req.Receipt)
			}
			t := a.table("card", "action", "quantity", "quantityUnit", "balance", "balanceUnit", "rewardAvailable", "alreadyRecorded", "issued")
			if err := t.row(id, action, res.Quantity, res.QuantityUnit, res.Balance, res.BalanceUnit, res.RewardAvailable, res.AlreadyRecorded, res.Issued); err != nil {
				return err
			}
			return t.flush()
		}),
	}
	f := c.Flags()
	f.Float64Var(&req.Amount, "amount", 0, "the purchase, in the account's currency (12.50)")
	f.StringVar(&req.Receipt, "receipt", "", "the receipt's id: the purchase is recorded at most once per receipt")
	f.StringVar(&req.CustomerPhone, "phone", "", "find the card by the customer's phone (with --template)")
	f.StringVar(&req.CustomerEmail, "email", "", "find the card by the customer's email (with --template)")
	f.IntVar(&req.TemplateID, "template", 0, "the template the card was issued from")
	f.BoolVar(&req.IssueCard, "issue", false, "issue a card (and create the customer) when none is found")
	f.StringVar(&req.FirstName, "first-name", "", "the new customer's first name, with --issue")
	f.StringVar(&req.Comment, "comment", "", "stored with the operation")
	_ = c.MarkFlagRequired("amount")
	_ = c.MarkFlagRequired("receipt")
	return c
}
