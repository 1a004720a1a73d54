"""The demo data holds a signed 112 contract whose experiment runs; loading twice changes nothing."""

from marketplace.awards.tables import Award, Contract, Signature
from marketplace.demo import load_demo
from marketplace.documents.tables import Document
from marketplace.experiments.tables import Experiment


async def test_demo_has_a_signed_112_contract_and_loads_idempotently():
    await load_demo()
    contract = await Contract.objects().where(Contract.buyer.name == "FPS Home Affairs – 112 Emergency Centres").first()
    assert contract is not None and contract.status == "active"
    assert await Signature.count().where(Signature.contract == contract.id) == 2
    assert await Experiment.exists().where(Experiment.contract_id == contract.id)
    counts = (await Award.count(), await Contract.count(), await Document.count())
    await load_demo()
    assert (await Award.count(), await Contract.count(), await Document.count()) == counts
