"""`{{ codes|stripe_requirements }}`: Stripe Connect requirement codes in plain words.

Stripe names what it still needs as dotted paths ("individual.dob.day",
"tos_acceptance.date", "person_1Abc.address.city"). Sellers see one line per thing they
must do, in the order Stripe gave, once each ("date of birth" for the day, month and year).
"""

from django import template

register = template.Library()

# Whole codes that read best as a sentence of their own.
EXACT = {
    "external_account": "A bank account for your payouts",
    "tos_acceptance.date": "Accepting Stripe's terms of service",
    "tos_acceptance.ip": "Accepting Stripe's terms of service",
    "business_type": "Whether you sell as an individual or a company",
    "business_profile.url": "Your website or a page that shows what you sell",
    "business_profile.mcc": "The category of your business",
    "business_profile.product_description": "A short description of what you sell",
    "business_profile.support_phone": "A support phone number for buyers",
    "settings.payments.statement_descriptor": "The name buyers see on their card statement",
}
# Whose detail it is: the first segment of the code.
SUBJECTS = {
    "individual": "Your",
    "representative": "Your company representative's",
    "company": "Your company's",
    "business_profile": "Your business's",
    "owners": "Your company owners'",
    "directors": "Your company directors'",
    "executives": "Your company executives'",
}
# What the detail is: the rest of the code, or its first segment ("dob" of "dob.day").
FIELDS = {
    "dob": "date of birth",
    "first_name": "first name",
    "last_name": "last name",
    "name": "name",
    "email": "email address",
    "phone": "phone number",
    "address": "address",
    "id_number": "ID number",
    "ssn_last_4": "last 4 digits of the Social Security number",
    "tax_id": "tax ID",
    "verification.document": "identity document",
    "verification.additional_document": "proof of address",
    "verification": "identity verification",
    "relationship.title": "job title",
    "relationship": "role in the company",
    "owners_provided": "confirmation that all owners are listed",
    "directors_provided": "confirmation that all directors are listed",
    "executives_provided": "confirmation that all executives are listed",
    "url": "website",
}


def _humanize(segment: str) -> str:
    return segment.replace("_", " ").strip()


def requirement_in_words(code: str) -> str:
    """One Stripe requirement code as a line a seller understands; an unknown code reads
    as its last segment in words ("settings.x.statement_descriptor_prefix" →
    "Statement descriptor prefix"), never as the raw path."""
    code = (code or "").strip()
    if code in EXACT:
        return EXACT[code]
    head, _, rest = code.partition(".")
    subject = "A business owner's" if head.startswith("person_") else SUBJECTS.get(head)
    if subject and rest:
        detail = FIELDS.get(rest) or FIELDS.get(rest.partition(".")[0])
        if detail:
            return f"{subject} {detail}"
    last = _humanize(code.rsplit(".", 1)[-1]) or "A detail Stripe asks for"
    return last[:1].upper() + last[1:]


@register.filter(name="stripe_requirements")
def stripe_requirements(codes) -> list[str]:
    """The codes in words, in Stripe's order, each line once."""
    lines: list[str] = []
    for code in codes or []:
        line = requirement_in_words(str(code))
        if line not in lines:
            lines.append(line)
    return lines
