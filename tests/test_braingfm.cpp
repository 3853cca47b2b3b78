// BrainGFM encoder: padding, permutation, gradients; text embeddings for its tokens.
#include <QTest>

#include "TestSupport.h"
#include "errors/Error.h"
#include "model/BrainGfm.h"
#include "model/TextEmbedding.h"
#include "settings/DataPaths.h"

using namespace bg;
using namespace bg::model;

namespace {
// A random symmetric "FC" matrix with unit diagonal.
torch::Tensor randomFc(int n, int seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({n, 40});
  auto c = torch::corrcoef(x);
  return c;
}
BrainGfmConfig small() {
  BrainGfmConfig c;
  c.hidden = 32;
  c.heads = 4;
  c.ffn = 64;
  c.featureWidth = 64;
  c.textDimension = 16;
  c.attentionLayers = 2;
  c.gnnLayers = 2;
  return c;
}
}  // namespace

class TestBrainGfm : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void paperDefaults() {
    const BrainGfmConfig c;
    QCOMPARE(c.hidden, 128);
    QCOMPARE(c.heads, 8);
    QCOMPARE(c.attentionLayers, 4);
    QCOMPARE(c.gnnLayers, 4);
    QCOMPARE(c.ffn, 256);
    QCOMPARE(c.dropout, 0.3);
    QCOMPARE(c.featureWidth, 512);
    const auto back = BrainGfmConfig::fromJson(c.toJson());
    QVERIFY(back.toJson() == c.toJson());
    BrainGfmEncoder enc(c);
    qInfo("paper configuration: %lld parameters", static_cast<long long>(enc->parameterCount()));
  }

  void paddingNeverChangesOutputs() {
    const auto c = small();
    BrainGfmEncoder enc(c);
    enc->eval();
    torch::NoGradGuard ng;
    const int n = 20;
    const auto fc = randomFc(n, 1);
    const auto task = torch::randn({c.textDimension}), atlas = torch::randn({c.textDimension});
    const auto alone = enc->forward(makeGraphInput(fc.unsqueeze(0), torch::ones({1, n}, torch::kBool), task, atlas, c));
    // The same graph padded to 35 nodes.
    auto padded = torch::zeros({1, 35, 35});
    padded.narrow(1, 0, n).narrow(2, 0, n).copy_(fc);
    auto mask = torch::zeros({1, 35}, torch::kBool);
    mask.narrow(1, 0, n).fill_(true);
    const auto out = enc->forward(makeGraphInput(padded, mask, task, atlas, c));
    QVERIFY(torch::allclose(out.nodes.narrow(1, 0, n), alone.nodes, 1e-5, 1e-5));
    QVERIFY(torch::allclose(out.graph, alone.graph, 1e-5, 1e-5));
    QCOMPARE(out.nodes.narrow(1, n, 35 - n).abs().max().item<float>(), 0.0f);
  }

  void permutingNodesPermutesEmbeddings() {
    const auto c = small();
    BrainGfmEncoder enc(c);
    enc->eval();
    torch::NoGradGuard ng;
    const int n = 17;
    const auto fc = randomFc(n, 2);
    const auto perm = torch::randperm(n, torch::kLong);
    const auto task = torch::randn({c.textDimension}), atlas = torch::randn({c.textDimension});
    const auto in = makeGraphInput(fc.unsqueeze(0), torch::ones({1, n}, torch::kBool), task, atlas, c);
    const auto a = enc->forward(in);
    // Reorder the nodes: each node keeps its feature vector and its edges.
    GraphBatchInput permuted = in;
    permuted.features = in.features.index_select(1, perm);
    permuted.adjacency = in.adjacency.index_select(1, perm).index_select(2, perm);
    const auto b = enc->forward(permuted);
    QVERIFY(torch::allclose(b.nodes, a.nodes.index_select(1, perm), 1e-4, 1e-4));
    QVERIFY(torch::allclose(b.graph, a.graph, 1e-4, 1e-4));
    QVERIFY(torch::allclose(b.tokens, a.tokens, 1e-4, 1e-4));
  }

  void everyParameterGetsAGradient() {
    const auto c = small();
    BrainGfmEncoder enc(c);
    enc->train();
    const auto fc = torch::stack({randomFc(12, 3), randomFc(12, 4)});
    auto in = makeGraphInput(fc, torch::ones({2, 12}, torch::kBool), torch::randn({c.textDimension}), torch::randn({c.textDimension}), c);
    in.maskedNodes = torch::zeros({2, 12}, torch::kBool);
    in.maskedNodes[0][3] = true;  // so the GMAE mask token takes part too
    const auto out = enc->forward(in);
    const auto loss = out.graph.pow(2).sum() + out.nodes.mean() + out.tokens.pow(2).mean();
    loss.backward();
    for (const auto& p : enc->named_parameters()) {
      QVERIFY2(p.value().grad().defined(), p.key().c_str());
      QVERIFY2(p.value().grad().abs().sum().item<double>() > 0, p.key().c_str());
    }
  }

  void hashedTextEmbeddings() {
    HashedNgramEmbedder e(256);
    const auto texts = PromptTexts::load(DataPaths::resourceDir());
    QCOMPARE(texts.disorders.size(), std::size_t(26));  // the union of the paper's tables 13 and 14
    QCOMPARE(texts.atlases.size(), std::size_t(9));     // the eight atlases and ABIDE's CC200
    // Tasks: a disorder's description by reference, or their own text; unknown ones fall back to the definition.
    QCOMPARE(texts.task("diagnosis", "autism").second, texts.disorders.at("ASD"));
    QVERIFY(texts.task("SEX", "2").second.find("Female") != std::string::npos);
    QCOMPARE(texts.task("handedness", "ambidextrous").second, std::string("handedness = ambidextrous"));
    QCOMPARE(texts.task("diagnosis", "autism", "my own text").second, std::string("my own text"));
    const auto mdd = e.embed("MDD", texts.disorders.at("MDD"));
    const auto pdd = e.embed("PDD", texts.disorders.at("PDD"));
    const auto cud = e.embed("CUD", texts.disorders.at("CUD"));
    QVERIFY(std::fabs(cosineSimilarity(mdd, mdd) - 1.0) < 1e-6);
    QVERIFY(cosineSimilarity(mdd, pdd) > cosineSimilarity(mdd, cud));
    QVERIFY(cosineSimilarity(e.embed("", "Schaefer200"), e.embed("", "Schaefer300")) > cosineSimilarity(e.embed("", "Schaefer200"), e.embed("", "AAL116")));
    QVERIFY(e.embed("MDD", texts.disorders.at("MDD")) == mdd);  // deterministic
    double norm = 0;
    for (float v : mdd) norm += v * v;
    QVERIFY(std::fabs(norm - 1.0) < 1e-5);
  }

  void embeddingTableRoundTrip() {
    const auto file = bgtest::scratchDir("text") / "bioclinicalbert.tsv";
    TableTextEmbedder::write(file, "BioClinicalBERT (computed elsewhere)", {{"MDD", {0.5f, -1.0f, 2.0f}}, {"ASD", {1.0f, 0.0f, 0.25f}}});
    const auto t = TableTextEmbedder::load(file);
    QCOMPARE(t->dimension(), 3);
    QCOMPARE(t->source(), std::string("BioClinicalBERT (computed elsewhere)"));
    QVERIFY(t->embed("ASD", "") == (std::vector<float>{1.0f, 0.0f, 0.25f}));
    QVERIFY_THROWS_EXCEPTION(Error, t->embed("SCHZ", ""));
  }
};

QTEST_APPLESS_MAIN(TestBrainGfm)
#include "test_braingfm.moc"
